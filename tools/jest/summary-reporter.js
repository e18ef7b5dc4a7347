// Appends one line per jest run ("<passed> <failed> <project>") to the file named by
// KEEL_TEST_SUMMARY, so scripts/test.sh can print a single total for the whole suite.
const fs = require('node:fs');

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const file = process.env.KEEL_TEST_SUMMARY;
    if (!file) return;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    fs.appendFileSync(file, `${results.numPassedTests} ${failed} ${this.rootDir}\n`);
  }
}

module.exports = SummaryReporter;
