// The entry applier against a real store: when a batch's callers hear their answers relative to
// the store write, and that a read nobody could have started before the answer sees the write.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EntryType, type Entry } from '@keel/raft';
import { etcdserverpb, internal } from '@keel/proto';
import { Membership } from '../cluster/membership';
import { openLocalState, type LocalState } from '../server/local-state';
import { createWaitRegistry } from '../server/wait';
import type { ApplyOutcome } from '../server/proposer';
import { backendApplier } from './appliers';
import { createEntryApplier } from './entry-applier';

const dirs: string[] = [];
const states: LocalState[] = [];
afterAll(async () => {
  for (const local of states) await local.store.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-entry-applier-'));
  dirs.push(dir);
  const local = await openLocalState(dir, { maxTxnOps: 128, minLeaseTtlSeconds: 2 });
  states.push(local);
  const waits = createWaitRegistry<ApplyOutcome>(100);
  const applier = createEntryApplier({
    state: local.state,
    chain: backendApplier({
      lessor: local.lessor,
      alarms: local.alarms,
      membership: new Membership(1n),
      currentRevision: () => local.store.currentRevision(),
    }),
    waits,
    confChanges: {
      apply: () => {
        throw new Error('no conf changes in these tests');
      },
    },
  });
  return { local, waits, applier };
}

function putEntry(index: number, id: bigint, key: string): Entry {
  const value = etcdserverpb.PutRequest.fromPartial({ key: Buffer.from(key), value: Buffer.from('v') });
  const data = internal.InternalRaftRequest.encode({
    header: { id, username: '', authRevision: 0n },
    request: { $case: 'put', value },
  }).finish();
  return { term: 1, index, type: EntryType.Normal, data };
}

test('replies before the store write: callers are answered first and reads started then wait for it', async () => {
  const { local, waits, applier } = await setup();
  const answered = waits.register(7n);
  let answerSeen: ApplyOutcome | undefined;
  void answered.then((outcome) => (answerSeen = outcome));
  let revisionAtSend = -1;
  let readDuringSend: Promise<etcdserverpb.RangeResponse> | undefined;
  let readSettledDuringSend = false;
  const send = async () => {
    await null; // let the caller's continuation run, as the member's reply encoding does
    revisionAtSend = local.store.currentRevision();
    readDuringSend = local.state.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('k') }));
    void readDuringSend.then(() => (readSettledDuringSend = true));
    for (let hop = 0; hop < 10; hop++) await null;
  };
  await applier.applyEntries([putEntry(1, 7n, 'k')], { send, beforeStoreWrite: true });
  expect(answerSeen).toMatchObject({ ok: true });
  expect(revisionAtSend).toBe(1); // the store had not written the put yet
  expect(readSettledDuringSend).toBe(false);
  const read = await readDuringSend!;
  expect(read.kvs.map((kv) => Buffer.from(kv.key).toString())).toEqual(['k']);
  expect(local.store.currentRevision()).toBe(2);
  expect(local.store.appliedIndex()).toBe(1);
});

test('otherwise callers are answered only after the store write, then replies are sent', async () => {
  const { local, waits, applier } = await setup();
  const revisionWhenAnswered = waits.register(8n).then(() => local.store.currentRevision());
  await applier.applyEntries([putEntry(1, 8n, 'a'), putEntry(2, 0n, 'b')]);
  expect(await revisionWhenAnswered).toBe(3);
  const revisionWhenSent: number[] = [];
  const answered = waits.register(9n);
  const send = async () => void revisionWhenSent.push(local.store.currentRevision());
  await applier.applyEntries([putEntry(3, 9n, 'c')], { send, beforeStoreWrite: false });
  await answered;
  expect(revisionWhenSent).toEqual([4]);
});

test('a batch with no waiting caller commits without sending replies', async () => {
  const { local, applier } = await setup();
  let sends = 0;
  const send = async () => void sends++;
  await applier.applyEntries([putEntry(1, 0n, 'x')], { send, beforeStoreWrite: true });
  expect(sends).toBe(0);
  expect(local.store.currentRevision()).toBe(2);
});

test('a failure while sending replies ahead of the write still commits the batch, then surfaces', async () => {
  const { local, waits, applier } = await setup();
  const answered = waits.register(5n);
  const send = async () => {
    throw new Error('flush failed');
  };
  await expect(applier.applyEntries([putEntry(1, 5n, 'k')], { send, beforeStoreWrite: true })).rejects.toThrow('flush failed');
  await expect(answered).resolves.toMatchObject({ ok: true });
  expect(local.store.currentRevision()).toBe(2);
  expect((await local.state.range(etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('k') }))).kvs).toHaveLength(1);
});
