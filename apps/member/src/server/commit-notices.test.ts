import { EntryType, MessageType, newEntry, newMessage, type Message } from '@keel/raft';
import { CommitNoticeHold, isCommitNotice } from './commit-notices';

/** A commit-only append to `to` at log position `index` announcing `commit`. */
function notice(to: bigint, index: number, commit: number): Message {
  return newMessage({ type: MessageType.App, from: 1n, to, term: 2, index, logTerm: 2, commit });
}

function append(to: bigint, index: number, commit: number): Message {
  return newMessage({
    type: MessageType.App,
    from: 1n,
    to,
    term: 2,
    index,
    logTerm: 2,
    commit,
    entries: [newEntry(new Uint8Array([1]), EntryType.Normal, 2, index + 1)],
  });
}

function recordingHold(holdMs = 1): { hold: CommitNoticeHold; sent: Message[][] } {
  const sent: Message[][] = [];
  const hold = new CommitNoticeHold({ send: (messages) => sent.push([...messages]) }, holdMs);
  return { hold, sent };
}

describe('CommitNoticeHold', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('tells a commit notice from an append with entries and from other messages', () => {
    expect(isCommitNotice(notice(2n, 5, 5))).toBe(true);
    expect(isCommitNotice(append(2n, 5, 5))).toBe(false);
    expect(isCommitNotice(newMessage({ type: MessageType.Heartbeat, to: 2n, commit: 5 }))).toBe(false);
  });

  it('passes every other message through at once, in order', () => {
    const { hold, sent } = recordingHold();
    const heartbeat = newMessage({ type: MessageType.Heartbeat, to: 2n, commit: 4 });
    const vote = newMessage({ type: MessageType.VoteResp, to: 3n });
    hold.send([append(2n, 4, 4), heartbeat, vote]);
    expect(sent).toEqual([[append(2n, 4, 4), heartbeat, vote]]);
    expect(hold.heldCount).toBe(0);
  });

  it('sends a notice nothing supersedes once the hold is over', () => {
    const { hold, sent } = recordingHold(1);
    hold.send([notice(2n, 5, 5), notice(3n, 5, 5)]);
    expect(sent).toEqual([]);
    expect(hold.heldCount).toBe(2);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([[notice(2n, 5, 5), notice(3n, 5, 5)]]);
    expect(hold.heldCount).toBe(0);
  });

  it('drops a held notice when an append with entries goes to the same follower', () => {
    const { hold, sent } = recordingHold();
    hold.send([notice(2n, 5, 5), notice(3n, 5, 5)]);
    hold.send([append(2n, 5, 5)]);
    jest.advanceTimersByTime(5);
    // Follower 2 learns commit 5 from the append; follower 3 still needs its notice.
    expect(sent).toEqual([[append(2n, 5, 5)], [notice(3n, 5, 5)]]);
  });

  it('times each hold from when something is held again, not from the first notice ever held', () => {
    // One client: commit, the next put's append supersedes the notice, the next commit holds a
    // new one just before the first hold would have ended. That notice gets a whole hold.
    const { hold, sent } = recordingHold(10);
    hold.send([notice(2n, 5, 5)]);
    jest.advanceTimersByTime(3);
    hold.send([append(2n, 5, 5)]);
    jest.advanceTimersByTime(6);
    hold.send([notice(2n, 6, 6)]);
    jest.advanceTimersByTime(3); // 12 ms after the first notice, 3 ms after this one
    expect(sent).toEqual([[append(2n, 5, 5)]]);
    hold.send([append(2n, 6, 6)]);
    jest.advanceTimersByTime(50);
    expect(sent).toEqual([[append(2n, 5, 5)], [append(2n, 6, 6)]]);
    expect(hold.heldCount).toBe(0);
  });

  it('keeps only the newest notice per follower', () => {
    const { hold, sent } = recordingHold();
    hold.send([notice(2n, 5, 5)]);
    hold.send([notice(2n, 6, 6)]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([[notice(2n, 6, 6)]]);
  });

  it('a heartbeat does not supersede a notice (it may carry a lower commit index)', () => {
    const { hold, sent } = recordingHold();
    const heartbeat = newMessage({ type: MessageType.Heartbeat, to: 2n, commit: 4 });
    hold.send([notice(2n, 5, 5)]);
    hold.send([heartbeat]);
    jest.advanceTimersByTime(1);
    expect(sent).toEqual([[heartbeat], [notice(2n, 5, 5)]]);
  });

  it('flush() sends held notices before the hold is over', () => {
    const { hold, sent } = recordingHold(1000);
    hold.send([notice(2n, 5, 5)]);
    hold.flush();
    expect(sent).toEqual([[notice(2n, 5, 5)]]);
    jest.advanceTimersByTime(1000);
    expect(sent).toHaveLength(1);
  });

  it('sends at once the notice a proposing follower waits for, and holds the others', () => {
    const { hold, sent } = recordingHold();
    hold.noteProposalFrom(3n); // follower 3 forwarded a proposal; the leader appends it as entry 6
    hold.send([append(2n, 5, 5), append(3n, 5, 5)]);
    hold.send([notice(2n, 6, 6), notice(3n, 6, 6)]);
    expect(sent).toEqual([[append(2n, 5, 5), append(3n, 5, 5)], [notice(3n, 6, 6)]]);
    expect(hold.heldCount).toBe(1);
    // Answered: the next notice to follower 3 is held like any other.
    hold.send([notice(3n, 6, 7)]);
    expect(sent).toHaveLength(2);
    jest.advanceTimersByTime(1);
    expect(sent[2]).toEqual([notice(2n, 6, 6), notice(3n, 6, 7)]);
  });

  it('holds a notice that does not reach the proposing follower\'s entry yet', () => {
    const { hold, sent } = recordingHold();
    hold.noteProposalFrom(3n);
    hold.send([append(3n, 7, 6)]); // carries entry 8, the follower's proposal
    hold.send([notice(3n, 8, 7)]); // entry 7 committed: not yet what follower 3 waits for
    expect(sent).toEqual([[append(3n, 7, 6)]]);
    hold.send([notice(3n, 8, 8)]);
    expect(sent).toEqual([[append(3n, 7, 6)], [notice(3n, 8, 8)]]);
  });

  it('an append that already carries the awaited commit index answers the follower', () => {
    const { hold, sent } = recordingHold();
    hold.noteProposalFrom(3n);
    hold.send([append(3n, 5, 5)]); // entry 6 awaited
    hold.send([append(3n, 6, 6)]); // entry 7 goes out carrying commit 6
    hold.send([notice(3n, 7, 7)]);
    expect(sent).toHaveLength(2); // the notice for 7 is held: nobody on follower 3 waits for it
    jest.advanceTimersByTime(1);
    expect(sent[2]).toEqual([notice(3n, 7, 7)]);
  });

  it('a second proposal from a follower does not make the first one wait out the hold', () => {
    const { hold, sent } = recordingHold();
    hold.noteProposalFrom(3n);
    hold.send([append(3n, 5, 5)]); // entry 6: the first proposal
    hold.noteProposalFrom(3n);
    hold.send([append(3n, 6, 5)]); // entry 7: the second, sent before 6 commits
    hold.send([notice(3n, 7, 6)]); // 6 committed: the first proposal's clients wait for this
    expect(sent).toEqual([[append(3n, 5, 5)], [append(3n, 6, 5)], [notice(3n, 7, 6)]]);
    hold.send([notice(3n, 7, 7)]); // 7 committed: the second's
    expect(sent[3]).toEqual([notice(3n, 7, 7)]);
    hold.send([notice(3n, 7, 8)]); // nobody on follower 3 waits any more: held
    expect(sent).toHaveLength(4);
    expect(hold.heldCount).toBe(1);
  });

  it('a notice sent at once for a proposing follower replaces the one held for it', () => {
    const { hold, sent } = recordingHold();
    hold.send([notice(3n, 5, 5)]);
    hold.noteProposalFrom(3n);
    hold.send([append(3n, 5, 5)]); // entry 6 awaited
    hold.send([notice(3n, 6, 6)]);
    jest.advanceTimersByTime(5);
    expect(sent).toEqual([[append(3n, 5, 5)], [notice(3n, 6, 6)]]);
  });

  it('sends every held notice before a TimeoutNow, so the successor learns the commit index in the old term', () => {
    const { hold, sent } = recordingHold();
    hold.send([notice(2n, 5, 5), notice(3n, 5, 5)]);
    const timeoutNow = newMessage({ type: MessageType.TimeoutNow, from: 1n, to: 2n, term: 2 });
    hold.send([notice(2n, 5, 6), timeoutNow]);
    expect(sent).toEqual([[notice(2n, 5, 5), notice(3n, 5, 5)], [notice(2n, 5, 6), timeoutNow]]);
    jest.advanceTimersByTime(5);
    expect(sent).toHaveLength(2);
  });

  it('after close() drops what it holds and holds nothing more', () => {
    const { hold, sent } = recordingHold();
    hold.send([notice(2n, 5, 5)]);
    hold.close();
    hold.send([notice(3n, 6, 6)]);
    jest.advanceTimersByTime(10);
    hold.flush();
    expect(sent).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });
});
