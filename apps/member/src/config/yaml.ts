/**
 * The YAML subset etcd configuration files use: `key: value` maps nested by indentation,
 * block (`- item`) and flow (`[a, b]`) sequences of scalars, quoted and plain scalars,
 * booleans, numbers, null and `#` comments. Anything fancier (anchors, multi-line strings,
 * flow maps, documents) is refused with the line number rather than guessed at.
 */
import { ConfigError } from './types';

export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  readonly number: number;
  readonly indent: number;
  readonly text: string;
}

export function parseYamlSubset(source: string): { [key: string]: YamlValue } {
  const lines = meaningfulLines(source);
  const [value, next] = parseBlock(lines, 0, lines[0]?.indent ?? 0);
  if (next < lines.length) fail(lines[next]!, 'unexpected indentation');
  if (value === null) return {};
  if (Array.isArray(value) || typeof value !== 'object') throw new ConfigError('config file: the top level must be a map of settings');
  return value;
}

function meaningfulLines(source: string): Line[] {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '' || text.trim() === '---') return;
    if (/^\t/.test(text)) throw new ConfigError(`config file line ${i + 1}: tabs are not allowed for indentation`);
    lines.push({ number: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  return lines;
}

/** Drops a `#` comment that is not inside quotes. */
function stripComment(raw: string): string {
  let quote: string | undefined;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) {
      return raw.slice(0, i);
    }
  }
  return raw;
}

/** Parses the block starting at lines[start] whose lines sit at `indent`. Returns [value, next index]. */
function parseBlock(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const first = lines[start];
  if (first === undefined) return [null, start];
  return first.text.startsWith('- ') || first.text === '-' ? parseSequence(lines, start, indent) : parseMap(lines, start, indent);
}

function parseMap(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const map: { [key: string]: YamlValue } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const match = /^("[^"]*"|'[^']*'|[^:]+?):(?:\s+(.*))?$/.exec(line.text);
    if (match === null) fail(line, 'expected "key: value"');
    const key = unquote(match[1]!.trim());
    if (key in map) fail(line, `duplicate key ${JSON.stringify(key)}`);
    const rest = match[2];
    i++;
    if (rest !== undefined && rest !== '') {
      map[key] = parseScalarOrFlow(rest, line);
    } else if (i < lines.length && lines[i]!.indent > indent) {
      [map[key], i] = parseBlock(lines, i, lines[i]!.indent);
    } else if (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('-')) {
      // A sequence may sit at the same indentation as its key.
      [map[key], i] = parseSequence(lines, i, indent);
    } else {
      map[key] = null;
    }
  }
  if (i < lines.length && lines[i]!.indent > indent) fail(lines[i]!, 'unexpected indentation');
  return [map, i];
}

function parseSequence(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const items: YamlValue[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent && (lines[i]!.text.startsWith('- ') || lines[i]!.text === '-')) {
    const line = lines[i]!;
    const rest = line.text.slice(1).trim();
    if (rest === '') fail(line, 'nested structures inside sequences are not supported');
    if (/^[^"'[]+?:(\s|$)/.test(rest)) fail(line, 'maps inside sequences are not supported');
    items.push(parseScalarOrFlow(rest, line));
    i++;
  }
  return [items, i];
}

function parseScalarOrFlow(text: string, line: Line): YamlValue {
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) fail(line, 'unterminated flow sequence');
    const inner = text.slice(1, -1).trim();
    if (inner === '') return [];
    return splitFlow(inner, line).map((item) => parseScalar(item.trim(), line));
  }
  if (text.startsWith('{')) fail(line, 'flow maps are not supported');
  if (/^[|>&*!]/.test(text)) fail(line, `unsupported YAML syntax "${text[0]}"`);
  return parseScalar(text, line);
}

function splitFlow(inner: string, line: Line): string[] {
  const items: string[] = [];
  let quote: string | undefined;
  let current = '';
  for (const ch of inner) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === ',') {
      items.push(current);
      current = '';
      continue;
    } else if (ch === '[' || ch === '{') {
      fail(line, 'nested flow collections are not supported');
    }
    current += ch;
  }
  if (quote !== undefined) fail(line, 'unterminated quoted string');
  items.push(current);
  return items;
}

function parseScalar(text: string, line: Line): YamlValue {
  if (text.startsWith('"') || text.startsWith("'")) {
    if (text.length < 2 || text[text.length - 1] !== text[0]) fail(line, 'unterminated quoted string');
    return unquote(text);
  }
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?\d+$/.test(text)) return Number(text);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number(text);
  return text;
}

function unquote(text: string): string {
  if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) {
    return JSON.parse(text) as string;
  }
  if (text.startsWith("'") && text.endsWith("'") && text.length >= 2) return text.slice(1, -1).replace(/''/g, "'");
  return text;
}

function fail(line: Line, message: string): never {
  throw new ConfigError(`config file line ${line.number}: ${message}`);
}
