// ESLint for the whole tree: typescript-eslint's type-aware rules (floating
// promises, unused code, awaiting non-promises) on the TypeScript, the
// recommended rules on the plain-JS bench and scripts.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Node's globals, for the plain-JS files (TypeScript knows them from @types/node). */
const nodeGlobals = Object.fromEntries(
  ["require", "module", "exports", "__dirname", "__filename", "process", "console", "Buffer", "URL", "URLSearchParams", "fetch",
    "setTimeout", "clearTimeout", "setInterval", "clearInterval", "setImmediate", "AbortSignal", "AbortController", "TextDecoder", "TextEncoder", "structuredClone", "performance"].map((name) => [name, "readonly"]),
);

export default tseslint.config(
  { ignores: ["dist/**", "docs/api/**", "node_modules/**", "bench/results/**", "coverage/**", "reports/**", ".stryker-tmp/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: "./tsconfig.eslint.json", tsconfigRootDir: import.meta.dirname },
      globals: nodeGlobals,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      "@typescript-eslint/no-unused-expressions": "error",
      // The provider parses untyped JSON and SDK errors at its edges; zod types them where they enter.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      // Dynamic-provider methods must return promises whether or not they wait for anything.
      "@typescript-eslint/require-await": "off",
      // The AWS SDK is loaded lazily with require() so small uploads never pay for it.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
