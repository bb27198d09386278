/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": "ts-jest",
    // hyparquet(-writer) ship only ES modules; jest's CommonJS runtime needs them compiled.
    "/node_modules/hyparquet[^/]*/.+\\.js$": ["ts-jest", { tsconfig: { allowJs: true }, isolatedModules: true }],
  },
  transformIgnorePatterns: ["/node_modules/(?!hyparquet)"],
  // v8 coverage keeps the serialized provider text small (babel instruments it).
  coverageProvider: "v8",
  testTimeout: 60000,
  maxWorkers: 2,
  // A worker that ran many suites takes 0.3 to 0.8 s to exit on 2 cores: it
  // frees a heap of 1 to 2.5 GiB, and each suite that made a dynamic resource
  // left an inspector session (@pulumi/pulumi's closure serializer never
  // disconnects it) that walks every script at exit. Jest's 500 ms default
  // called that "failed to exit gracefully" in about half the full runs.
  workerGracefulExitTimeout: 5000,
};
