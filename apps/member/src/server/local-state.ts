// The member's local state machine: the revisioned store plus the in-memory views rebuilt from
// it at startup (leases with their attached keys, active alarms).
import { KeySpaces, decodeId, type MvccStore } from '@keel/mvcc';
import { Lessor } from '../lease/lessor';
import { AlarmSet, alarmFromDbKey } from '../apply/alarms';
import { decodeLeaseRecord } from '../apply/appliers';
import { backendViewOf, openStore, statePortOf } from '../apply/store-adapter';
import type { StatePort } from '../apply/store-port';
import type { BackendView } from '../api/maintenance-service';

export interface LocalState {
  lessor: Lessor;
  store: MvccStore;
  state: StatePort;
  backendView: BackendView;
  alarms: AlarmSet;
}

export async function openLocalState(
  dbDir: string,
  options: { maxTxnOps: number; minLeaseTtlSeconds: number; backendBatchIntervalMs?: number; backendBatchLimit?: number },
): Promise<LocalState> {
  const lessor = new Lessor({ minTtlSeconds: options.minLeaseTtlSeconds });
  const store = await openStore(dbDir, {
    maxTxnOps: options.maxTxnOps,
    backendBatchIntervalMs: options.backendBatchIntervalMs,
    backendBatchLimit: options.backendBatchLimit,
    leases: {
      exists: (id) => lessor.has(id),
      attach: (key, id) => lessor.attach(id, key),
      detach: (key, id) => lessor.detach(id, key),
    },
  });
  const alarms = new AlarmSet();
  await restoreLocalState(store, lessor, alarms);
  return { lessor, store, state: statePortOf(store), backendView: backendViewOf(store), alarms };
}

/** Rebuilds in-memory lease and alarm state from the store at startup. */
async function restoreLocalState(store: MvccStore, lessor: Lessor, alarms: AlarmSet): Promise<void> {
  for await (const [key, value] of store.scanRaw(KeySpaces.leases)) {
    const record = decodeLeaseRecord(value);
    lessor.restore(decodeId(key), record.ttlSeconds, record.remainingTtlSeconds);
  }
  for await (const [key] of store.scanRaw(KeySpaces.alarms)) alarms.activate(alarmFromDbKey(key));
  const all = await store.range({ key: Buffer.from([0]), rangeEnd: Buffer.from([0]) });
  for (const kv of all.kvs) if (kv.lease !== 0n) lessor.attach(kv.lease, kv.key);
}

