// The raft log (paper §5.3 Log Matching, §5.4 safety) and MemoryStorage.
import { CompactedError, RaftInvariantError, UnavailableError } from '../../src/errors';
import { RaftLog } from '../../src/log/raft-log';
import { MemoryStorage } from '../../src/storage';
import { emptyConfState } from '../../src/types';
import { entry } from './helpers';

function logWith(...terms: number[]): RaftLog {
  const storage = new MemoryStorage();
  storage.append(terms.map((t, i) => entry(t, i + 1)));
  return new RaftLog(storage);
}

describe('RaftLog.maybeAppend (§5.3 consistency check)', () => {
  it('rejects when the entry at prevIndex has a different term', () => {
    const log = logWith(1, 2, 3);
    expect(log.maybeAppend(3, 2, 3, [entry(4, 4)])).toBeUndefined();
    expect(log.maybeAppend(4, 3, 3, [entry(4, 5)])).toBeUndefined(); // prevIndex past our log
  });

  it('appends, truncating a conflicting uncommitted suffix, and commits min(leaderCommit, lastNew)', () => {
    const log = logWith(1, 2, 3);
    expect(log.maybeAppend(1, 1, 10, [entry(4, 2), entry(4, 3), entry(4, 4)])).toBe(4);
    expect(log.allEntries().map((e) => e.term)).toEqual([1, 4, 4, 4]);
    expect(log.committed).toBe(4);
  });

  it('ignores entries it already has (a duplicated or reordered App must not truncate)', () => {
    const log = logWith(1, 1, 1);
    expect(log.maybeAppend(0, 0, 0, [entry(1, 1)])).toBe(1);
    expect(log.lastIndex()).toBe(3);
  });

  it('never overwrites a committed entry (§5.4 Leader Completeness): throws', () => {
    const log = logWith(1, 1, 1);
    log.commitTo(3);
    expect(() => log.maybeAppend(1, 1, 3, [entry(2, 2)])).toThrow(RaftInvariantError);
  });

  it('commitTo never decreases and cannot pass the last index', () => {
    const log = logWith(1, 1);
    log.commitTo(2);
    log.commitTo(1);
    expect(log.committed).toBe(2);
    expect(() => log.commitTo(5)).toThrow(RaftInvariantError);
  });

  it('applied may not exceed committed', () => {
    const log = logWith(1, 1);
    log.commitTo(1);
    expect(() => log.appliedTo(2)).toThrow(RaftInvariantError);
  });
});

describe('findConflictByTerm (fast log backtracking)', () => {
  it('skips all entries of terms above the hint term', () => {
    const log = logWith(1, 1, 2, 2, 5, 5, 5);
    expect(log.findConflictByTerm(7, 3)).toEqual({ index: 4, term: 2 });
    expect(log.findConflictByTerm(7, 5)).toEqual({ index: 7, term: 5 });
    expect(log.findConflictByTerm(7, 0)).toEqual({ index: 0, term: 0 });
  });
});

describe('isUpToDate (§5.4.1 election restriction)', () => {
  const log = logWith(1, 2, 2);
  it.each([
    [3, 2, true], [4, 2, true], [2, 2, false], [1, 3, true], [10, 1, false],
  ])('candidate last (index %i, term %i) up to date: %s', (index, term, expected) => {
    expect(log.isUpToDate(index, term)).toBe(expected);
  });
});

describe('maybeCommit (§5.4.2 only current-term entries commit by counting)', () => {
  it('does not commit an entry of an older term', () => {
    const log = logWith(1, 2);
    expect(log.maybeCommit(2, 3)).toBe(false);
    expect(log.maybeCommit(2, 2)).toBe(true);
    expect(log.committed).toBe(2);
  });
});

describe('unstable entries and committed paging', () => {
  it('serves slices spanning storage and unstable, capped by size', () => {
    const log = logWith(1, 1);
    log.append([entry(2, 3, 'a'.repeat(100)), entry(2, 4, 'b'.repeat(100))]);
    expect(log.slice(1, 5, Number.MAX_SAFE_INTEGER).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(log.slice(3, 5, 130).map((e) => e.index)).toEqual([3]);
    expect(log.slice(3, 5, 0).map((e) => e.index)).toEqual([3]); // at least one
    log.stableTo(3, 2);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([4]);
    log.stableTo(4, 1); // wrong term: ignored
    expect(log.unstableEntries().map((e) => e.index)).toEqual([4]);
  });

  it('nextCommittedEnts pages by maxApplyingEntsSize', () => {
    const storage = new MemoryStorage();
    storage.append([1, 2, 3, 4].map((i) => entry(1, i, 'x'.repeat(100))));
    const log = new RaftLog(storage, 250);
    log.commitTo(4);
    const first = log.nextCommittedEnts();
    expect(first.map((e) => e.index)).toEqual([1, 2]);
    log.acceptApplying(2);
    expect(log.nextCommittedEnts().map((e) => e.index)).toEqual([3, 4]);
  });
});

describe('MemoryStorage', () => {
  it('compacts, creates snapshots and reports errors at the bounds', () => {
    const s = new MemoryStorage();
    s.append([1, 2, 3, 4, 5].map((i) => entry(i, i)));
    s.createSnapshot(3, { ...emptyConfState(), voters: [1n] }, new Uint8Array([9]));
    s.compact(3);
    expect(s.firstIndex()).toBe(4);
    expect(s.term(3)).toBe(3);
    expect(() => s.term(2)).toThrow(CompactedError);
    expect(() => s.entries(3, 5, 1e9)).toThrow(CompactedError);
    expect(() => s.entries(4, 7, 1e9)).toThrow(UnavailableError);
    expect(s.entries(4, 6, 1e9).map((e) => e.index)).toEqual([4, 5]);
    expect(() => s.compact(2)).toThrow(CompactedError);
    expect(s.snapshot().metadata).toMatchObject({ index: 3, term: 3 });
  });

  it('append truncates an overlapping suffix and refuses gaps', () => {
    const s = new MemoryStorage();
    s.append([entry(1, 1), entry(1, 2), entry(1, 3)]);
    s.append([entry(2, 2)]);
    expect(s.lastIndex()).toBe(2);
    expect(s.term(2)).toBe(2);
    expect(() => s.append([entry(2, 5)])).toThrow(RaftInvariantError);
  });
});
