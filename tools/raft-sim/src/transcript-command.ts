import { parseArgs } from 'node:util';
import { describeMismatch, runTranscriptFile } from './testing';

/** `raft-sim transcript [--rewrite] <file>...`: checks (or regenerates) transcript expectations. */
export function runTranscriptCommand(argv: string[]): number {
  const { values, positionals } = parseArgs({ args: argv, options: { rewrite: { type: 'boolean', default: false } }, allowPositionals: true });
  if (positionals.length === 0) {
    console.error('usage: raft-sim transcript [--rewrite] <file.txt>...');
    return 2;
  }
  let failed = 0;
  for (const file of positionals) {
    const result = runTranscriptFile(file, values.rewrite);
    if (result.rewritten) console.log(`${file}: rewritten (${result.blocks} blocks)`);
    const first = result.mismatches[0];
    if (first === undefined) {
      if (!result.rewritten) console.log(`${file}: ok (${result.blocks} blocks)`);
      continue;
    }
    failed++;
    console.error(`${file}: ${result.mismatches.length} block(s) differ`);
    console.error(describeMismatch(file, first));
  }
  return failed === 0 ? 0 : 1;
}
