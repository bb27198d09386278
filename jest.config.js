/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  // v8 coverage keeps the serialized provider text small (babel instruments it).
  coverageProvider: "v8",
  testTimeout: 60000,
  maxWorkers: 2,
};
