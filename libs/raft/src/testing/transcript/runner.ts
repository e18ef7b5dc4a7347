// Runs transcript files: executes each block in a fresh environment per file and compares
// (or, in rewrite mode, replaces) the expected output.
import { readFileSync, writeFileSync } from 'node:fs';
import { runBlock } from './commands';
import { TranscriptEnv } from './env';
import { parseTranscript, serializeTranscript } from './parser';

export interface BlockMismatch {
  line: number;
  command: string;
  expected: string;
  actual: string;
}

export interface TranscriptResult {
  file: string;
  blocks: number;
  mismatches: BlockMismatch[];
  rewritten: boolean;
}

/** Executes a transcript's text; returns the actual output of each block. */
export function executeTranscript(text: string, file = '<transcript>'): { outputs: string[]; mismatches: BlockMismatch[]; blocks: ReturnType<typeof parseTranscript> } {
  const blocks = parseTranscript(text, file);
  const env = new TranscriptEnv();
  const outputs: string[] = [];
  const mismatches: BlockMismatch[] = [];
  for (const block of blocks) {
    let actual: string;
    try {
      actual = runBlock(env, block);
    } catch (err) {
      throw new Error(`${file}:${block.line}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    outputs.push(actual);
    if (actual !== block.expected) mismatches.push({ line: block.line, command: block.command, expected: block.expected, actual });
  }
  return { outputs, mismatches, blocks };
}

/** Runs a transcript file; with rewrite, writes the actual outputs back when they differ. */
export function runTranscriptFile(file: string, rewrite: boolean): TranscriptResult {
  const text = readFileSync(file, 'utf8');
  const { outputs, mismatches, blocks } = executeTranscript(text, file);
  let rewritten = false;
  if (rewrite) {
    const updated = serializeTranscript(blocks, outputs);
    if (updated !== text) {
      writeFileSync(file, updated);
      rewritten = true;
    }
  }
  return { file, blocks: blocks.length, mismatches: rewrite ? [] : mismatches, rewritten };
}

/** A readable report of the first mismatch of a file. */
export function describeMismatch(file: string, m: BlockMismatch): string {
  return [`${file}:${m.line}: ${m.command}`, '--- expected', m.expected, '--- actual', m.actual].join('\n');
}
