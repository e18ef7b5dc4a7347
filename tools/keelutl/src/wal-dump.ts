// `keelutl wal dump <data-dir>`: prints a member's WAL the way etcd-dump-logs prints etcd's —
// snapshot, WAL metadata and hard state, then one line per entry (term, index, type, data).
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  EMPTY_HARD_STATE,
  EntryKind,
  listSegments,
  nodeFileSystem,
  readSegment,
  walDirOf,
  type HardState,
  type SnapshotMarker,
  type WalEntry,
  type WalMetadata,
} from '@keel/wal';
import { decodeSafely, type EntryDecoders } from './wal-dump-decoders';
import { memberDataDecoders } from './wal-dump-proto';
import { formatId } from './wal-dump-format';

export interface WalDumpOptions {
  /** Print entries from this index on; default: after the latest snapshot marker in the WAL. */
  startIndex?: number;
  /** Only these entry kinds: 'Normal', 'ConfigChange' (etcd-dump-logs' names). Default: all. */
  entryTypes?: string[];
  /** How entry data prints; default: a member's InternalRaftRequests and Raft conf changes. */
  decoders?: EntryDecoders;
}

/** Everything the dump prints, gathered from all segments in order. */
interface WalContents {
  metadata: WalMetadata | undefined;
  hardState: HardState;
  latestSnapshot: SnapshotMarker | undefined;
  /** Entries with Raft's overwrite rule applied: entries[i].index === entries[0].index + i. */
  entries: WalEntry[];
  notes: string[];
}

async function readWalContents(walDir: string): Promise<WalContents> {
  const segments = await listSegments(nodeFileSystem, walDir);
  if (segments.length === 0) throw new Error(`no WAL segments in ${walDir}`);
  const contents: WalContents = {
    metadata: undefined,
    hardState: { ...EMPTY_HARD_STATE },
    latestSnapshot: undefined,
    entries: [],
    notes: [],
  };
  for (const [i, segment] of segments.entries()) {
    const { records, scan } = await readSegment(nodeFileSystem, walDir, segment, i === segments.length - 1);
    for (const record of records) {
      if (record.kind === 'metadata') contents.metadata = record.metadata;
      else if (record.kind === 'hardState') contents.hardState = record.hardState;
      else if (record.kind === 'snapshot') contents.latestSnapshot = record.snapshot;
      else if (record.kind === 'entry') addEntry(contents, record.entry);
    }
    if (scan.tornTail) {
      const { offset, reason } = scan.tornTail;
      contents.notes.push(`torn tail in ${segment.fileName} at byte offset ${offset} (${reason}); opening the WAL truncates it`);
    }
  }
  return contents;
}

/** Raft's rule: an entry replaces any entries at or after its index. A gap restarts the list. */
function addEntry(contents: WalContents, entry: WalEntry): void {
  const entries = contents.entries;
  const first = entries[0]?.index ?? entry.index;
  const position = entry.index - first;
  if (position < 0 || position > entries.length) {
    if (entries.length > 0) contents.notes.push(`entries jump from index ${entries.at(-1)!.index} to ${entry.index}`);
    entries.length = 0;
  } else {
    entries.length = position;
  }
  entries.push(entry);
}

/** Renders the dump of the WAL under `<dataDir>/member/wal` as lines of text. */
export async function dumpWal(dataDir: string, options: WalDumpOptions = {}): Promise<string[]> {
  const contents = await readWalContents(walDirOf(dataDir));
  const decoders = options.decoders ?? memberDataDecoders();
  const lines: string[] = [];
  const snapshot = contents.latestSnapshot;
  let after: number;
  if (options.startIndex !== undefined) {
    lines.push(`Start dumping log entries from index ${options.startIndex}.`);
    after = options.startIndex - 1;
  } else {
    lines.push('Snapshot:', snapshot ? `term=${snapshot.term} index=${snapshot.index}` : 'empty');
    lines.push('Start dumping log entries from snapshot.');
    after = snapshot?.index ?? 0;
  }
  const { metadata, hardState } = contents;
  const nodeId = metadata ? formatId(metadata.memberId) : '?';
  const clusterId = metadata ? formatId(metadata.clusterId) : '?';
  lines.push('WAL metadata:');
  lines.push(
    `nodeID=${nodeId} clusterID=${clusterId} term=${hardState.term} commitIndex=${hardState.commit} vote=${formatId(hardState.vote)}`,
  );
  lines.push('WAL entries:');
  const shown = contents.entries.filter((e) => e.index > after);
  lines.push(`lastIndex=${contents.entries.at(-1)?.index ?? after}`);
  lines.push(`${'term'.padStart(4)}\t${'index'.padStart(10)}\ttype\tdata`);
  const wanted = entryFilter(options.entryTypes);
  let count = 0;
  for (const entry of shown) {
    if (!wanted(entry)) continue;
    count++;
    lines.push(formatEntry(entry, decoders));
  }
  lines.push('', `Entry types (${(options.entryTypes ?? []).join(',')}) count is : ${count}`);
  for (const note of contents.notes) lines.push(`note: ${note}`);
  return lines;
}

function formatEntry(entry: WalEntry, decoders: EntryDecoders): string {
  const prefix = `${String(entry.term).padStart(4)}\t${String(entry.index).padStart(10)}`;
  switch (entry.type) {
    case EntryKind.Normal:
      return `${prefix}\tnorm\t${entry.data.length === 0 ? '' : decodeSafely(decoders.normal, entry.data)}`;
    case EntryKind.ConfChange:
      return `${prefix}\tconf\t${decodeSafely(decoders.confChange, entry.data)}`;
    case EntryKind.ConfChangeV2:
      return `${prefix}\tconf2\t${decodeSafely(decoders.confChangeV2, entry.data)}`;
    default:
      return `${prefix}\ttype${entry.type}\t${decodeSafely(decoders.normal, entry.data)}`;
  }
}

const ENTRY_TYPE_NAMES = ['Normal', 'ConfigChange'];

function entryFilter(names: string[] | undefined): (entry: WalEntry) => boolean {
  if (!names || names.length === 0) return () => true;
  for (const name of names) {
    if (!ENTRY_TYPE_NAMES.includes(name)) throw new Error(`unknown entry type ${name}; use ${ENTRY_TYPE_NAMES.join(', ')}`);
  }
  const normal = names.includes('Normal');
  const conf = names.includes('ConfigChange');
  return (entry) => (entry.type === EntryKind.Normal ? normal : conf);
}

export const WAL_DUMP_USAGE = `Usage: keelutl wal dump [--start-index N] [--entry-type Normal,ConfigChange] <data-dir>

Prints the WAL under <data-dir>/member/wal: the latest snapshot marker, metadata and hard
state, then every entry after the snapshot (or from --start-index) with term, index, type
and data.`;

/** CLI entry: parses arguments, prints the dump; returns the process exit code. */
export async function walDumpCommand(args: string[], decoders?: EntryDecoders): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'start-index': { type: 'string' },
      'entry-type': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || positionals.length !== 1) {
    (values.help ? process.stdout : process.stderr).write(WAL_DUMP_USAGE + '\n');
    return values.help ? 0 : 2;
  }
  const startIndex = values['start-index'] === undefined ? undefined : Number(values['start-index']);
  if (startIndex !== undefined && !(Number.isSafeInteger(startIndex) && startIndex > 0)) {
    process.stderr.write(`--start-index must be a positive integer\n`);
    return 2;
  }
  const options: WalDumpOptions = {
    ...(startIndex !== undefined ? { startIndex } : {}),
    ...(values['entry-type'] ? { entryTypes: values['entry-type'].split(',') } : {}),
    ...(decoders ? { decoders } : {}),
  };
  const lines = await dumpWal(path.resolve(positionals[0]!), options);
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
