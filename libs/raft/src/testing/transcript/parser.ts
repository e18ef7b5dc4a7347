// Transcript files: a sequence of blocks, each a command and its expected output.
//
//   # comments and blank lines before a command are kept verbatim on rewrite
//   propose 1 foo            <- command: name, positional args, key=value, key=(a,b,c)
//   ----
//   ok                       <- expected output, up to the next blank line or end of file
//
// Output never contains blank lines (the interpreter guarantees it), so a blank line always
// ends a block.

export interface CommandArg {
  key: string;
  /** Bare words have no key (key === '') and one value; key=(a,b) has several. */
  values: string[];
}

export interface TranscriptBlock {
  /** Comment and blank lines preceding the command, verbatim. */
  preamble: string[];
  /** 1-based line number of the command, for error messages. */
  line: number;
  command: string;
  name: string;
  args: CommandArg[];
  expected: string;
}

const SEPARATOR = '----';

export function parseTranscript(text: string, file = '<transcript>'): TranscriptBlock[] {
  const lines = text.split('\n');
  const blocks: TranscriptBlock[] = [];
  let preamble: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      preamble.push(line);
      i++;
      continue;
    }
    const commandLine = i + 1;
    if (lines[i + 1] !== SEPARATOR) throw new Error(`${file}:${commandLine + 1}: expected '${SEPARATOR}' after command '${line}'`);
    i += 2;
    const out: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    const { name, args } = parseCommand(line, `${file}:${commandLine}`);
    blocks.push({ preamble, line: commandLine, command: line, name, args, expected: out.join('\n') });
    preamble = [];
  }
  // Trailing comments/blank lines belong to no command; keep them on a sentinel-free block list.
  if (preamble.some((l) => l.trim() !== '')) throw new Error(`${file}: trailing comment lines after the last command are not supported`);
  return blocks;
}

export function parseCommand(line: string, where: string): { name: string; args: CommandArg[] } {
  const words = line.trim().split(/\s+/);
  const name = words.shift();
  if (name === undefined || name === '') throw new Error(`${where}: empty command`);
  const args = words.map((word): CommandArg => {
    const eq = word.indexOf('=');
    if (eq < 0) return { key: '', values: [word] };
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (value.startsWith('(') && value.endsWith(')')) {
      const inner = value.slice(1, -1);
      return { key, values: inner === '' ? [] : inner.split(',') };
    }
    return { key, values: [value] };
  });
  return { name, args };
}

/** Writes blocks back with the given outputs (used by rewrite mode). */
export function serializeTranscript(blocks: readonly TranscriptBlock[], outputs: readonly string[]): string {
  const parts: string[] = [];
  blocks.forEach((b, idx) => {
    parts.push(...b.preamble, b.command, SEPARATOR, outputs[idx] ?? b.expected);
  });
  return parts.join('\n') + '\n';
}
