import { EntryType, MessageType, StateType, newEntry, newMessage, type Entry, type Ready } from '@keel/raft';
import { RaftLoop, splitCommitted } from './raft-loop';
import type { RaftNodePort } from './ports';

const entry = (index: number, type = EntryType.Normal): Entry => newEntry(new Uint8Array([index]), type, 1, index);

function ready(parts: Partial<Ready>): Ready {
  return { readStates: [], entries: [], committedEntries: [], messages: [], mustSync: false, ...parts };
}

/** A RaftLoop over twins that record, in one list, the order in which the loop drives them. */
function harness(readies: Ready[]) {
  const log: string[] = [];
  const pendingSaves: Array<() => void> = [];
  let applyGate: Promise<void> = Promise.resolve();
  let advanced = 0;
  const node = {
    tick: () => undefined,
    step: () => undefined,
    hasReady: () => readies.length > 0,
    ready: () => readies.shift()!,
    advance: () => void advanced++,
  } as unknown as RaftNodePort;
  const loop = new RaftLoop(
    {
      node,
      durableLog: {
        save: (_hs, entries, sync) => {
          log.push(`save ${entries.map((e) => e.index).join(',')}${sync ? ' sync' : ''}`);
          return new Promise<void>((resolve) =>
            pendingSaves.push(() => {
              log.push('saved');
              resolve();
            }),
          );
        },
        saveSnapshot: () => Promise.resolve(),
      },
      logMirror: { append: () => undefined, setHardState: () => undefined, applySnapshot: () => undefined },
      sender: { send: (messages) => void (messages.length > 0 && log.push(`send ${messages.map((m) => m.type).join(',')}`)) },
      applier: {
        // As the real applier: answers (and sends the replies, if asked) once the batch is applied.
        applyEntries: (entries, replies) => {
          log.push(`apply ${entries.map((e) => e.index).join(',')}`);
          return applyGate.then(() => replies?.send());
        },
        applySnapshot: () => Promise.resolve(),
      },
      tickIntervalMs: 60_000,
      events: { onAnswersQueued: () => void log.push('answers') },
    },
    0,
  );
  /** Lets the loop run until it waits on a save (or finishes), then completes that save. */
  const settle = async () => {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  };
  const finishSave = async () => {
    pendingSaves.shift()!();
    await settle();
  };
  /** Makes applies pending until the returned function is called. */
  const holdApplies = () => {
    let release!: () => void;
    applyGate = new Promise<void>((resolve) => (release = resolve));
    return release;
  };
  return { loop, log, settle, finishSave, holdApplies, advanced: () => advanced };
}

const leaderSoftState = { lead: 1n, raftState: StateType.Leader };
const followerSoftState = { lead: 2n, raftState: StateType.Follower };
const app = newMessage({ type: MessageType.App, to: 2n, from: 1n });
const appResp = newMessage({ type: MessageType.AppResp, to: 1n, from: 2n });

describe('splitCommitted', () => {
  it('applies early only committed entries persisted by an earlier Ready', () => {
    expect(splitCommitted(ready({ entries: [entry(5), entry(6)], committedEntries: [entry(3), entry(4), entry(5)] }))).toEqual({
      early: [entry(3), entry(4)],
      late: [entry(5)],
    });
    expect(splitCommitted(ready({ committedEntries: [entry(3)] }))).toEqual({ early: [entry(3)], late: [] });
    // A single-voter leader commits what it appends: nothing is durable yet.
    expect(splitCommitted(ready({ entries: [entry(7)], committedEntries: [entry(7)] }))).toEqual({ early: [], late: [entry(7)] });
  });

  it('keeps a conf change and everything after it in order behind the save', () => {
    const committed = [entry(3), entry(4, EntryType.ConfChange), entry(5)];
    expect(splitCommitted(ready({ committedEntries: committed }))).toEqual({ early: [entry(3)], late: committed.slice(1) });
  });

  it('applies nothing early in a Ready that installs a snapshot', () => {
    const snapshot = { data: new Uint8Array(), metadata: { index: 2, term: 1, confState: { voters: [1n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } };
    expect(splitCommitted(ready({ snapshot, committedEntries: [entry(3)] }))).toEqual({ early: [], late: [entry(3)] });
  });
});

describe('RaftLoop ordering', () => {
  it('leader: sends before its own WAL write, and applies durable committed entries during it', async () => {
    const h = harness([
      ready({ softState: leaderSoftState, entries: [entry(5)], committedEntries: [entry(4)], messages: [app], mustSync: true }),
    ]);
    h.loop.kick();
    await h.settle();
    expect(h.log).toEqual(['send 3', 'save 5 sync', 'apply 4']);
    expect(h.advanced()).toBe(0);
    await h.finishSave();
    expect(h.advanced()).toBe(1);
    await h.loop.stop();
  });

  it('leader: a Ready with nothing new to persist sends first (notices are held by the sender), then answers clients before its hard-state write', async () => {
    const h = harness([ready({ softState: leaderSoftState, committedEntries: [entry(5)], messages: [app] })]);
    h.loop.kick();
    await h.settle();
    expect(h.log).toEqual(['send 3', 'apply 5', 'answers', 'save ']);
    await h.finishSave();
    expect(h.advanced()).toBe(1);
    await h.loop.stop();
  });

  it('follower: acknowledges only after its fsync and applies new entries only after it', async () => {
    const h = harness([
      ready({ softState: followerSoftState, entries: [entry(5)], committedEntries: [entry(4), entry(5)], messages: [appResp], mustSync: true }),
    ]);
    h.loop.kick();
    await h.settle();
    expect(h.log).toEqual(['save 5 sync', 'apply 4']);
    await h.finishSave();
    expect(h.log).toEqual(['save 5 sync', 'apply 4', 'saved', 'send 4', 'apply 5']);
    expect(h.advanced()).toBe(1);
    await h.loop.stop();
  });

  it('follower: acknowledges once its fsync is done even while the early apply still runs', async () => {
    const h = harness([
      ready({ softState: followerSoftState, entries: [entry(6)], committedEntries: [entry(5)], messages: [appResp], mustSync: true }),
    ]);
    const applyGate = h.holdApplies();
    h.loop.kick();
    await h.settle();
    await h.finishSave();
    expect(h.log).toEqual(['save 6 sync', 'apply 5', 'saved', 'send 4']);
    expect(h.advanced()).toBe(0);
    applyGate();
    await h.settle();
    expect(h.advanced()).toBe(1);
    await h.loop.stop();
  });
});
