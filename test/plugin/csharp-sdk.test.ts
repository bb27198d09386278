// The package's C# SDK, as far as a machine without .NET can check it:
// scripts/gen-sdks generates it from the committed schema with Pulumi's own
// .NET generator; every file parses as C# (tree-sitter's C# grammar); every
// resource and function of the schema is a class bound to its token, with
// every input and output property; and examples/volumes-csharp/Program.cs,
// the program docs/package.md gives C# users, constructs only classes the
// SDK declares, sets only properties they have and reads only outputs the
// resources have. What it cannot check is the C# type system: that needs
// the `Pulumi` NuGet package and a compiler.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Language, Node, Parser } from "web-tree-sitter";

const REPO = path.join(__dirname, "..", "..");
const EXAMPLE = path.join(REPO, "examples", "volumes-csharp", "Program.cs");
const schema = JSON.parse(fs.readFileSync(path.join(REPO, "plugin", "schema.json"), "utf8"));

// A cold machine builds the generator from Go modules (a minute or two).
jest.setTimeout(15 * 60_000);

/** A class of the SDK: its properties by C# name, with the schema name each is bound to. */
interface CsClass {
  token?: string;
  inputs: Map<string, string>;
  outputs: Map<string, string>;
  properties: Set<string>;
}

let parser: Parser;
let sdkDir: string;
const classes = new Map<string, CsClass>();

beforeAll(async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "zstages-csharp-"));
  // Its progress lines stay out of a passing run; a failure carries them.
  execFileSync(path.join(REPO, "scripts", "gen-sdks"), [out], { stdio: ["ignore", "ignore", "pipe"] });
  sdkDir = path.join(out, "dotnet");
  await Parser.init();
  const grammar = require.resolve("tree-sitter-c-sharp/tree-sitter-c_sharp.wasm");
  parser = new Parser();
  // Bytes, not a path: given a path, it loads the file with a dynamic
  // import() that jest does not allow.
  parser.setLanguage(await Language.load(fs.readFileSync(grammar)));
  for (const file of csFiles(sdkDir)) collectClasses(parse(fs.readFileSync(file, "utf8")), classes);
});

afterAll(() => fs.rmSync(path.dirname(sdkDir), { recursive: true, force: true }));

function csFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".cs")).map((f) => path.join(dir, f)).sort();
}

function parse(text: string): Node {
  const tree = parser.parse(text);
  if (!tree) throw new Error("tree-sitter returned no tree");
  return tree.rootNode;
}

/** Where the tree has syntax errors, as "line: text" (empty when it parses). */
function syntaxErrors(root: Node): string[] {
  const found: string[] = [];
  const walk = (node: Node) => {
    if (node.isError || node.isMissing) found.push(`${node.startPosition.row + 1}: ${node.text.slice(0, 60)}`);
    else for (const child of node.children) if (child) walk(child);
  };
  walk(root);
  return found;
}

function descendants(node: Node, type: string): Node[] {
  return node.descendantsOfType(type).filter((n): n is Node => n !== null);
}

/** The first string argument of the attribute `name` in a declaration's attribute lists. */
function attribute(decl: Node, name: string): string | undefined {
  for (const list of decl.children) {
    if (list?.type !== "attribute_list") continue;
    for (const attr of descendants(list, "attribute")) {
      if (attr.childForFieldName("name")?.text !== name) continue;
      const literal = descendants(attr, "string_literal_content")[0];
      if (literal) return literal.text;
    }
  }
  return undefined;
}

function collectClasses(root: Node, into: Map<string, CsClass>): void {
  for (const decl of descendants(root, "class_declaration")) {
    const name = decl.childForFieldName("name")!.text;
    const cls: CsClass = { token: attribute(decl, "ZillizcloudResourceType"), inputs: new Map(), outputs: new Map(), properties: new Set() };
    const body = decl.childForFieldName("body")!;
    for (const member of body.namedChildren) {
      if (!member) continue;
      if (member.type === "property_declaration") {
        const prop = member.childForFieldName("name")!.text;
        cls.properties.add(prop);
        const output = attribute(member, "Output");
        if (output) cls.outputs.set(output, prop);
        const input = attribute(member, "Input");
        if (input) cls.inputs.set(input, prop);
      } else if (member.type === "field_declaration") {
        // A list, map or secret input is a private field `_name` bound to the
        // schema name, behind a public property `Name`.
        const input = attribute(member, "Input");
        const field = descendants(member, "variable_declarator")[0]?.childForFieldName("name")?.text;
        if (input && field?.startsWith("_")) cls.inputs.set(input, field.charAt(1).toUpperCase() + field.slice(2));
      }
    }
    into.set(name, cls);
  }
}

const PULUMI_TYPES = new Set(["Config", "CustomResourceOptions", "Dictionary"]);

/**
 * What a program does that the SDK does not declare: `new T { P = ... }` with
 * a T the SDK lacks or a P that T lacks, and `x.P` where `x` is a resource
 * the program made and P is not one of its outputs.
 */
function undeclaredUses(program: Node): string[] {
  const problems: string[] = [];
  const resources = new Map<string, string>();
  for (const creation of descendants(program, "object_creation_expression")) {
    const typeNode = creation.childForFieldName("type")!;
    const type = typeNode.type === "generic_name" ? typeNode.namedChildren[0]!.text : typeNode.text;
    const line = creation.startPosition.row + 1;
    const cls = classes.get(type);
    if (!cls) {
      if (!PULUMI_TYPES.has(type)) problems.push(`${line}: new ${type}: no such class in the SDK`);
      continue;
    }
    const declarator = creation.parent;
    if (cls.token && declarator?.type === "variable_declarator") resources.set(declarator.childForFieldName("name")!.text, type);
    const initializer = creation.childForFieldName("initializer");
    for (const assignment of initializer?.namedChildren ?? []) {
      if (assignment?.type !== "assignment_expression") continue;
      const property = assignment.childForFieldName("left")!.text;
      if (!cls.properties.has(property)) problems.push(`${line}: ${type} has no property ${property}`);
    }
  }
  for (const access of descendants(program, "member_access_expression")) {
    const resource = resources.get(access.childForFieldName("expression")!.text);
    if (!resource) continue;
    const property = access.childForFieldName("name")!.text;
    const outputs = new Set(classes.get(resource)!.outputs.values());
    if (!outputs.has(property)) problems.push(`${access.startPosition.row + 1}: ${resource} has no output ${property}`);
  }
  return problems;
}

const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

describe("the generated C# SDK", () => {
  test("every generated file parses as C#", () => {
    const files = csFiles(sdkDir);
    expect(files.length).toBeGreaterThan(10);
    const errors = files.flatMap((file) => syntaxErrors(parse(fs.readFileSync(file, "utf8"))).map((e) => `${path.relative(sdkDir, file)}:${e}`));
    expect(errors).toEqual([]);
  });

  test.each(Object.keys(schema.resources))("%s is a class bound to its token, with every input and output of the schema", (token) => {
    const name = token.split(":")[2];
    const resource = classes.get(name);
    expect(resource?.token).toBe(token);
    expect([...resource!.outputs.keys()].sort()).toEqual(Object.keys(schema.resources[token].properties).sort());
    const args = classes.get(`${name}Args`)!;
    expect([...args.inputs.keys()].sort()).toEqual(Object.keys(schema.resources[token].inputProperties).sort());
    for (const [input, property] of args.inputs) expect(property).toBe(pascal(input));
  });

  test.each(Object.keys(schema.functions))("%s is a class that invokes its token, with every argument of the schema", (token) => {
    const name = pascal(token.split(":")[2]);
    const invoke = fs.readFileSync(path.join(sdkDir, `${name}.cs`), "utf8");
    expect(invoke).toContain(`Invoke<${name}Result>("${token}"`);
    const args = classes.get(`${name}Args`)!;
    expect([...args.inputs.keys()].sort()).toEqual(Object.keys(schema.functions[token].inputs.properties).sort());
  });

  test("the package's NuGet metadata names this project, not Pulumi Corp.", () => {
    const csproj = fs.readFileSync(path.join(sdkDir, "ZillizStages.Zillizcloud.csproj"), "utf8");
    expect(csproj).toContain(`<Authors>${schema.publisher}</Authors>`);
    expect(csproj).not.toContain("Pulumi Corp.");
  });
});

describe("examples/volumes-csharp", () => {
  const program = () => parse(fs.readFileSync(EXAMPLE, "utf8"));

  test("parses as C#", () => {
    expect(syntaxErrors(program())).toEqual([]);
  });

  test("uses only classes, properties and outputs the SDK declares", () => {
    expect(undeclaredUses(program())).toEqual([]);
  });

  test("docs/package.md's C# snippet parses and uses only what the SDK declares", () => {
    const doc = fs.readFileSync(path.join(REPO, "docs", "package.md"), "utf8");
    const snippets = [...doc.matchAll(/```csharp\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(snippets).toHaveLength(1);
    const snippet = parse(snippets[0]);
    expect(syntaxErrors(snippet)).toEqual([]);
    expect(undeclaredUses(snippet)).toEqual([]);
  });

  test("the check above sees a misspelt input, an unknown class and an output a resource lacks", () => {
    const text = fs.readFileSync(EXAMPLE, "utf8");
    const broken = text
      .replace("DataPaths = batch.DataPaths", "DataPath = batch.DataPaths")
      .replace("new MergeNewFieldArgs { FieldName = \"rating\"", "new MergeFieldArgs { FieldName = \"rating\"")
      .replace("raw.CreateTime", "raw.CreatedAt");
    expect(broken).not.toBe(text);
    const problems = undeclaredUses(parse(broken)).map((p) => p.replace(/^\d+: /, ""));
    expect(problems.sort()).toEqual(["ImportJobArgs has no property DataPath", "Volume has no output CreatedAt", "new MergeFieldArgs: no such class in the SDK"]);
  });
});
