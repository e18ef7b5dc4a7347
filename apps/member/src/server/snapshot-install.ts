// Catching up a member that is too far behind for the leader's retained log: the leader streams
// its database image (the Maintenance snapshot format, unsealed) with the raft snapshot message;
// the receiver writes the image into a fresh RocksDB next to the live one and asks for an
// in-process restart, during which the image replaces the database before anything opens it.
//
// Order on the receiver (each step safe to repeat after a crash):
//   1. snap/db.incoming written and synced, then snap/incoming.json (the raft position);
//   2. at the next start: db → db.old, db.incoming → db; WAL gets the snapshot marker and a
//      hard state committing it; the .snap file is written; incoming.json and db.old go.
import fs from 'node:fs';
import path from 'node:path';
import type { Message } from '@keel/raft';
import { decodeMessage } from './raft-codec';
import { openFromNewestSnapshot } from './raft-log-open';
import { listSnapshots, writeSnapshotRecord, type SnapshotRecord } from './snapshots';

const { RocksLevel } = require('@nxtedition/rocksdb') as {
  RocksLevel: new (location: string, options: object) => {
    open(options?: object): Promise<void>;
    close(): Promise<void>;
    batch(): { put(key: Buffer, value: Buffer): void; write(options?: { sync?: boolean }): Promise<void> };
  };
};

const INCOMING_DB = 'db.incoming';
const INCOMING_META = 'incoming.json';
const RECORDS_PER_BATCH = 10_000;

/** Splits a database image into [key, value] records. */
export function* imageRecords(image: Buffer): Generator<[Buffer, Buffer]> {
  let offset = 0;
  while (offset < image.length) {
    const keyLength = image.readUInt32BE(offset);
    const key = image.subarray(offset + 4, offset + 4 + keyLength);
    offset += 4 + keyLength;
    const valueLength = image.readUInt32BE(offset);
    const value = image.subarray(offset + 4, offset + 4 + valueLength);
    offset += 4 + valueLength;
    yield [key, value];
  }
}

async function writeImageDb(dir: string, image: Buffer): Promise<void> {
  fs.rmSync(dir, { recursive: true, force: true });
  const db = new RocksLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open({ createIfMissing: true });
  try {
    let batch = db.batch();
    let count = 0;
    for (const [key, value] of imageRecords(image)) {
      batch.put(Buffer.from(key), Buffer.from(value));
      if (++count % RECORDS_PER_BATCH === 0) {
        await batch.write({ sync: false });
        batch = db.batch();
      }
    }
    await batch.write({ sync: true });
  } finally {
    await db.close();
  }
}

/** Receiver side: stores an incoming snapshot; the caller then restarts the member. */
export async function receiveSnapshot(snapDir: string, meta: Buffer, data: AsyncIterable<Buffer>): Promise<Message> {
  const message = decodeMessage(meta);
  if (!message.snapshot) throw new Error('snapshot message without a snapshot');
  const chunks: Buffer[] = [];
  for await (const chunk of data) chunks.push(chunk);
  fs.mkdirSync(snapDir, { recursive: true });
  await writeImageDb(path.join(snapDir, INCOMING_DB), Buffer.concat(chunks));
  const { index, term, confState } = message.snapshot.metadata;
  writeSnapshotRecord(path.join(snapDir, INCOMING_META), { index, term, confState });
  return message;
}

/** Startup: finishes an install that receiveSnapshot prepared. Returns its record, if any. */
export async function finishPendingInstall(snapDir: string, dbDir: string, walDir: string): Promise<SnapshotRecord | undefined> {
  const metaFile = path.join(snapDir, INCOMING_META);
  if (!fs.existsSync(metaFile)) return undefined;
  const record = listSnapshots(snapDir, INCOMING_META)[0];
  if (!record) throw new Error(`unreadable ${metaFile}`);
  const incoming = path.join(snapDir, INCOMING_DB);
  if (fs.existsSync(incoming)) {
    fs.rmSync(`${dbDir}.old`, { recursive: true, force: true });
    if (fs.existsSync(dbDir)) fs.renameSync(dbDir, `${dbDir}.old`);
    fs.renameSync(incoming, dbDir);
  }
  const { opened } = await openFromNewestSnapshot(walDir, snapDir);
  try {
    const hardState = opened.hardState;
    await opened.wal.saveSnapshotMarker({ index: record.index, term: record.term });
    await opened.wal.append({
      term: Math.max(hardState.term, record.term),
      vote: hardState.vote,
      commit: Math.max(hardState.commit, record.index),
    });
  } finally {
    await opened.wal.close();
  }
  writeSnapshotRecord(path.join(snapDir, snapshotFileName(record)), record);
  fs.rmSync(metaFile, { force: true });
  fs.rmSync(`${dbDir}.old`, { recursive: true, force: true });
  return record;
}

function snapshotFileName(record: { index: number; term: number }): string {
  const hex = (n: number) => n.toString(16).padStart(16, '0');
  return `${hex(record.term)}-${hex(record.index)}.snap`;
}
