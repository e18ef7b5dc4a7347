// Randomised crash test against a model: random appends (including Raft overwrites), hard
// states and snapshot markers over small segments, power loss after a random number of
// bytes, reopen. The recovered log must equal the model after every acknowledged operation,
// plus at most a prefix of the one in flight.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Wal, walDirOf, type HardState, type WalEntry } from '../src';
import { METADATA, crashingFs, makeEntries, unsyncedFs } from './helpers';

const SEGMENT_BYTES = 2048;

interface Op {
  /** Where the batch starts relative to the model's last index: 1 appends, <= 0 overwrites. */
  startDelta: number;
  count: number;
  size: number;
  marker: boolean;
}

interface Model {
  entries: WalEntry[];
  hardState: HardState;
}

const opArbitrary: fc.Arbitrary<Op> = fc.record({
  startDelta: fc.oneof(fc.constant(1), fc.constant(1), fc.integer({ min: -3, max: 0 })),
  count: fc.integer({ min: 1, max: 6 }),
  size: fc.integer({ min: 0, max: 700 }),
  marker: fc.boolean(),
});

/** The log after applying `op` with only its first `written` entries (hard state only if all). */
function apply(model: Model, op: Op, term: number, written = op.count): Model {
  const last = model.entries.length;
  const first = Math.max(1, last + op.startDelta);
  const batch = makeEntries(first, op.count, { term, size: op.size }).slice(0, written);
  const entries = [...model.entries.slice(0, first - 1), ...batch];
  const hardState = written === op.count ? { term, vote: 1n, commit: Math.min(first, entries.length) } : model.hardState;
  return { entries, hardState };
}

function equal(a: Model, b: Model): boolean {
  try {
    expect(a).toEqual(b);
    return true;
  } catch {
    return false;
  }
}

describe('crash model', () => {
  it('recovers every acknowledged operation and at most a prefix of the interrupted one', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-wal-model-'));
    try {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 25 }), fc.nat(40_000), async (ops, budget) => {
          const dir = walDirOf(path.join(root, String(run++)));
          await (await Wal.create(dir, METADATA, { segmentBytes: SEGMENT_BYTES, fs: unsyncedFs })).close();
          const crashing = crashingFs(budget, unsyncedFs);
          let model: Model = { entries: [], hardState: { term: 0, vote: 0n, commit: 0 } };
          let inFlight: { op: Op; term: number } | undefined;
          const { wal } = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES, fs: crashing });
          try {
            for (const [i, op] of ops.entries()) {
              const term = i + 1;
              inFlight = { op, term };
              const next = apply(model, op, term);
              const first = next.entries.length - op.count + 1;
              await wal.append(next.hardState, next.entries.slice(first - 1));
              if (op.marker && first > 1) await wal.saveSnapshotMarker({ index: first - 1, term: next.entries[first - 2]!.term });
              model = next;
              inFlight = undefined;
            }
            await wal.close();
          } catch {
            // the simulated power loss; release the dead WAL's file handles
            await wal.close().catch(() => undefined);
          }
          const reopened = await Wal.open(dir, { segmentBytes: SEGMENT_BYTES, fs: unsyncedFs });
          const candidates = [model];
          if (inFlight) {
            for (let written = 1; written <= inFlight.op.count; written++) {
              const partial = apply(model, inFlight.op, inFlight.term, written);
              // All entries on disk but not (yet) the hard state written after them:
              candidates.push(written === inFlight.op.count ? { ...partial, hardState: model.hardState } : partial);
              if (written === inFlight.op.count) candidates.push(partial);
            }
          }
          const recovered = { entries: reopened.entries, hardState: reopened.hardState };
          const matches = candidates.filter((candidate) => equal(recovered, candidate));
          expect(matches.length).toBeGreaterThan(0);
          await reopened.wal.close();
        }),
        { numRuns: 40 },
      );
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
