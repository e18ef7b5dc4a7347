// Shared jest settings for every project. swc strips types (type checking is the
// `typecheck` target's job), so tests start fast.
const path = require('node:path');

const root = __dirname;

/** @param {string} projectDir absolute directory of the project using the preset */
module.exports = function jestPreset(projectDir) {
  return {
    rootDir: projectDir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/{src,test}/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
    },
    moduleNameMapper: {
      '^@keel/(raft|wal|mvcc|proto|h2|bbolt)$': path.join(root, 'libs/$1/src/index.ts'),
      '^@keel/harness$': path.join(root, 'tools/harness/src/index.ts'),
    },
    reporters: ['default', path.join(root, 'tools/jest/summary-reporter.js')],
    testTimeout: 30000,
    passWithNoTests: true,
  };
};
