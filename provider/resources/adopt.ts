/**
 * Adoption: Pulumi cannot import a dynamic resource (pulumi/pulumi#16175),
 * so `adopt: true` lets create take over an existing stage or volume of the
 * same name, when its settings are the ones the program asks for. One flow
 * for Stage and Volume; each says how to find the existing one and what to
 * compare.
 */
import { isAlreadyExists } from "../client";
import { ZillizApiError, ZillizValidationError } from "../errors";

/** One setting the existing stage or volume has otherwise. */
export interface Difference {
  field: string;
  wanted: string | undefined;
  found: string | undefined;
}

export interface CreateOrAdopt<T> {
  /** "stage" or "volume", and the resource's name, for messages. */
  noun: "stage" | "volume";
  resource: "Stage" | "Volume";
  nameField: "stageName" | "volumeName";
  name: string;
  projectId: string;
  adopt: boolean;
  /** The existing one of that name (in the project), if any. */
  find(): Promise<T | undefined>;
  /** Where `found` differs from the inputs; empty when it can be adopted. */
  differences(found: T): Difference[];
  create(): Promise<void>;
}

const show = (v: string | undefined) => (v === undefined || v === "" ? "(none)" : JSON.stringify(v));

/** The refusal to adopt: every differing field, and what to do. */
function refusal(op: CreateOrAdopt<unknown>, diffs: Difference[]): ZillizValidationError {
  const list = diffs.map((d) => `${d.field} is ${show(d.found)} there, ${show(d.wanted)} here`).join("; ");
  return new ZillizValidationError(
    diffs[0].field,
    `adopt: the existing ${op.noun} ${op.name} does not match this ${op.resource} (${list}). ` +
      `Change these inputs to what the ${op.noun} has, or pick another ${op.nameField}; ` +
      `${op.noun === "volume" ? "a volume cannot be edited" : "adoption never changes an existing stage"}.`,
  );
}

/**
 * Creates the stage or volume, or adopts the existing one when `adopt` is
 * set and it matches. Returns what was adopted (undefined when created).
 * Without `adopt`, "already exists" says how to adopt it.
 */
export async function createOrAdopt<T>(op: CreateOrAdopt<T>): Promise<T | undefined> {
  if (op.adopt) {
    const found = await op.find();
    if (found !== undefined) {
      const diffs = op.differences(found);
      if (diffs.length > 0) throw refusal(op, diffs);
      return found;
    }
  }
  try {
    await op.create();
    return undefined;
  } catch (err) {
    // "Already exists" arrives as a 409 or as an HTTP 200 with a code; isAlreadyExists reads both.
    if (!(err instanceof ZillizApiError && isAlreadyExists(err))) throw err;
    if (op.adopt) {
      // It exists, but not where find looked: another project.
      throw refusal(op, [{ field: "projectId", wanted: op.projectId, found: "another project" }]);
    }
    throw err.with({
      hint:
        `A ${op.noun} named "${op.name}" already exists. Set \`adopt: true\` on this ${op.resource} to take it over ` +
        `(its settings must match), or pick another ${op.nameField}.`,
    });
  }
}
