// Runs every transcript in test/transcripts/. Each block's output must match exactly.
// Regenerate expectations with RAFT_REWRITE=1 (then READ the diff: it is evidence).
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describeMismatch, runTranscriptFile } from '../src/testing';

const dir = path.join(__dirname, 'transcripts');
const rewrite = process.env['RAFT_REWRITE'] === '1';
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();

describe('raft transcripts', () => {
  it('has transcripts to run', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)('%s', (file) => {
    const result = runTranscriptFile(path.join(dir, file), rewrite);
    expect(result.blocks).toBeGreaterThan(0);
    const first = result.mismatches[0];
    if (first !== undefined) throw new Error(describeMismatch(file, first));
  });
});
