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
};
