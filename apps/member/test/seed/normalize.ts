// Normalization of etcdctl transcripts: replaces exactly what legitimately differs between two
// runs or two servers, and nothing else.
//
// Replaced:
//   - member and cluster IDs (decimal as in JSON and alarms, hex as in tables): they are derived
//     from the peer URLs, whose ports are chosen per run;
//   - the client and peer ports themselves, and the phase's temporary directory;
//   - sizes of the backend file (endpoint status DB SIZE, snapshot status TOTAL SIZE, the size
//     logged by snapshot save) and the snapshot file's HASH, which depend on the storage engine;
//   - wall-clock time: log timestamps, "took" durations, etcdctl's per-invocation client UUID,
//     and grpc-go's connectivity-change log lines under --debug (their number depends on timing).
// Deliberately kept: revisions, create/mod revisions, versions, counts, raft term and index,
// server version (Keel reports an etcd-compatible 3.4.23), alarm texts, error texts, exit codes.
//
// ASCII tables are re-rendered from their cells after replacement, because a replaced ID or size
// changes column widths; etcdctl draws the table, so cell contents carry all the server's part.
import { createHash } from 'node:crypto';

export interface NormalizeContext {
  readonly clientPort?: number;
  readonly peerPort?: number;
  /** Decimal strings (uint64 does not fit a JS number). */
  readonly memberId?: string;
  readonly clusterId?: string;
  readonly workDir?: string;
}

/** Table columns whose values are storage-engine specific. */
const STORAGE_SPECIFIC_COLUMNS = new Set(['DB SIZE', 'TOTAL SIZE', 'HASH']);

export function normalizeOutput(text: string, context: NormalizeContext): string {
  let result = replaceIds(text, context);
  result = replacePortsAndPaths(result, context);
  result = replaceTiming(result);
  result = digestLongValues(result);
  return canonicalizeTables(result);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function replaceWhole(text: string, value: string, token: string, wordChars: string): string {
  const pattern = new RegExp(`(?<![${wordChars}])${escapeRegExp(value)}(?![${wordChars}])`, 'g');
  return text.replace(pattern, token);
}

function replaceIds(text: string, context: NormalizeContext): string {
  let result = text;
  const ids: Array<[string | undefined, string]> = [
    [context.memberId, 'member-id'],
    [context.clusterId, 'cluster-id'],
  ];
  for (const [decimal, name] of ids) {
    if (decimal === undefined) continue;
    result = replaceWhole(result, decimal, `<${name}>`, '0-9');
    result = replaceWhole(result, BigInt(decimal).toString(16), `<${name}-hex>`, '0-9a-fA-F');
  }
  return result;
}

function replacePortsAndPaths(text: string, context: NormalizeContext): string {
  let result = text;
  if (context.workDir !== undefined) result = result.split(context.workDir).join('<work-dir>');
  // A port follows a ':' (so no left boundary check: the host before it ends in a digit).
  if (context.clientPort !== undefined) result = result.replace(new RegExp(`:${context.clientPort}(?![0-9])`, 'g'), ':<client-port>');
  if (context.peerPort !== undefined) result = result.replace(new RegExp(`:${context.peerPort}(?![0-9])`, 'g'), ':<peer-port>');
  return result;
}

function replaceTiming(text: string): string {
  return text
    .replace(/"ts":"[^"]*"/g, '"ts":"<time>"')
    .replace(/"ts":[0-9.e+]+/g, '"ts":<time>')
    .replace(/"took":("[^"]*"|[0-9.e+-]+)/g, '"took":<duration>')
    .replace(/"size":"[^"]*"/g, '"size":"<size>"')
    .replace(/endpoint:\/\/client-[0-9a-f-]+\//g, 'endpoint://client-<uuid>/')
    .replace(/^(WARNING|INFO|ERROR): \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(\.\d+)?/gm, '$1: <time>')
    // grpc-go's connectivity log (etcdctl --debug) races with etcdctl's exit: the last of these
    // lines is printed on some runs and not on others against the same etcd.
    .replace(/^INFO: <time> \[core\](Sub)?[Cc]hannel Connectivity change to [A-Z_]+\n/gm, '');
}

/**
 * Replaces base64 values of 1 KiB and more (the quota story's 1 MiB values) by their length and
 * SHA-256, so a comparison still sees any changed byte but a diff stays readable.
 */
function digestLongValues(text: string): string {
  return text.replace(/"value":"([A-Za-z0-9+/=]{1024,})"/g, (_match, base64: string) => {
    const bytes = Buffer.from(base64, 'base64');
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    return `"value":"<${bytes.length} bytes, sha256 ${digest}>"`;
  });
}

const BORDER = /^\+(-+\+)+$/;

/** Replaces every ASCII table in `text` with a canonical rendering of its cells. */
export function canonicalizeTables(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (!BORDER.test(lines[i] ?? '')) {
      out.push(lines[i] ?? '');
      i++;
      continue;
    }
    let end = i + 1;
    while (end < lines.length && /^[+|]/.test(lines[end] ?? '')) end++;
    out.push(...renderTable(parseTable(lines.slice(i, end))));
    i = end;
  }
  return out.join('\n');
}

/** A table as rows of trimmed cells; `null` marks a border line. */
type TableRows = Array<string[] | null>;

function parseTable(lines: string[]): TableRows {
  // Cells never contain '|' in etcdctl's tables (IDs, URLs, numbers, alarm texts).
  const rows: TableRows = lines.map((line) => (BORDER.test(line) ? null : line.split('|').slice(1, -1).map((cell) => cell.trim())));
  blankStorageSpecificColumns(rows);
  return rows;
}

function blankStorageSpecificColumns(rows: TableRows): void {
  const header = rows.find((row) => row !== null);
  if (header === undefined || header === null) return;
  header.forEach((title, col) => {
    if (!STORAGE_SPECIFIC_COLUMNS.has(title)) return;
    for (const row of rows) {
      if (row === null || row === header || row[col] === '') continue;
      row[col] = `<${title.toLowerCase().replace(' ', '-')}>`;
    }
  });
}

function renderTable(rows: TableRows): string[] {
  const widths: number[] = [];
  for (const row of rows) row?.forEach((cell, col) => (widths[col] = Math.max(widths[col] ?? 0, cell.length)));
  return rows.map((row) =>
    row === null
      ? `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`
      : `|${row.map((cell, col) => ` ${cell.padEnd(widths[col] ?? 0)} `).join('|')}|`,
  );
}
