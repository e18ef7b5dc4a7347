// A leader tells followers about a new commit index with an append that carries no entries
// (raft broadcasts one after every commit). Under a steady stream of writes the very next append
// to that follower, carrying the next entry, says the same thing a moment later, so the notice
// only costs: two socket writes on the leader and, on each follower, a read, a Ready of its own
// (a hard-state write and an apply) and an acknowledgement the leader must read again. Measured
// with one client on three members, that was about a fifth of a follower's CPU per put, spent
// while the next put's append was already on its way.
//
// This sender holds such notices for a short while and drops one when a later append to the
// same follower goes out (that append carries a commit index at least as high). Raft tolerates
// lost and delayed messages, so dropping a superseded notice is safe; holding one delays the
// follower's apply (its reads and watchers) by at most the hold. (A linearizable read on a
// follower usually learns the commit index from its ReadIndex heartbeat, but that carries
// min(match, commit), so a follower whose acknowledgement is still in flight can wait the hold.)
//
// A leadership hand-off sends TimeoutNow right after a last round of appends meant to carry
// the commit index to everyone; the successor then campaigns in a new term and would drop a
// notice that arrives after it. So a batch with TimeoutNow sends every held notice first.
//
// A follower whose own clients wait is different: it forwarded their proposals to the leader
// and answers them when it applies, so with one client nothing would ever supersede the notice
// and every put would wait out the hold (measured: 1-client puts through a follower fell to
// half). Such a follower is noted when its proposal arrives; the next appends tell which index
// its proposal got, and the first notice to it that reaches that index leaves at once. Each
// follower keeps every such index until a commit reaches it, so a second proposal forwarded
// before the first commits does not leave the first one's clients waiting out the hold.
import { MessageType, type Message } from '@keel/raft';
import type { MessageSender } from './ports';

/**
 * How long a commit notice may wait for a later append. One client's next put on three members
 * typically reaches the leader within a millisecond of its answer; longer holds measured no
 * better and only delay idle followers.
 */
export const COMMIT_NOTICE_HOLD_MS = 1;

const INDEX_UNKNOWN = 0; // raft indexes start at 1

/** True for an append that carries only a commit index (and the log position it matches). */
export function isCommitNotice(message: Message): boolean {
  return message.type === MessageType.App && message.entries.length === 0;
}

export class CommitNoticeHold implements MessageSender {
  /** At most one notice per follower: a newer one carries a commit index at least as high. */
  private readonly held = new Map<bigint, Message>();
  /**
   * Followers with forwarded proposals waiting to commit: the indexes a notice must reach to
   * answer them (at most one INDEX_UNKNOWN, for proposals whose appends are not sent yet).
   * Invariant: a follower's list is never empty (the entry is deleted instead).
   */
  private readonly awaited = new Map<bigint, number[]>();
  /** Invariant: pending exactly while something is held (see timeHold). */
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly inner: MessageSender,
    private readonly holdMs: number = COMMIT_NOTICE_HOLD_MS,
  ) {}

  /**
   * A follower forwarded a proposal: its clients wait for this member's commit notice. Called
   * as the proposal is stepped into raft, so the leader appends it before its next sends.
   */
  noteProposalFrom(follower: bigint): void {
    const indexes = this.awaited.get(follower);
    if (indexes === undefined) this.awaited.set(follower, [INDEX_UNKNOWN]);
    else if (!indexes.includes(INDEX_UNKNOWN)) indexes.push(INDEX_UNKNOWN);
  }

  send(messages: Message[]): void {
    if (messages.some((m) => m.type === MessageType.TimeoutNow)) {
      this.flush();
      this.inner.send(messages);
      return;
    }
    this.learnAwaitedIndexes(messages);
    const now: Message[] = [];
    for (const message of messages) {
      if (isCommitNotice(message)) {
        if (this.answersProposals(message)) {
          this.held.delete(message.to); // this one goes now and says at least as much
          now.push(message);
        } else if (!this.closed) {
          this.held.set(message.to, message);
        }
        continue;
      }
      // An append with entries carries the leader's commit index as of now: it supersedes.
      if (message.type === MessageType.App) {
        this.held.delete(message.to);
        this.answersProposals(message);
      }
      now.push(message);
    }
    if (now.length > 0) this.inner.send(now);
    this.timeHold();
  }

  /**
   * The hold is timed from the moment something is held after nothing was: once every held
   * notice is superseded, the clock stops, and the next notice gets a whole hold of its own.
   * (Timed from the first notice ever held instead, with one client the timer fired just after
   * the next commit — its notice had waited a fraction of the hold — and sent that notice,
   * which the next put's append would have made redundant, for about a quarter of all puts.)
   */
  private timeHold(): void {
    if (this.held.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    } else if (this.held.size > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.holdMs);
    }
  }

  /** Sends every held notice now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held.size === 0) return; // nothing is held once closed (close() clears, send() stops holding)
    const notices = [...this.held.values()];
    this.held.clear();
    this.inner.send(notices);
  }

  /** Drops held notices and sends nothing more (the transport is going away). */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
    this.awaited.clear();
  }

  /** The first appends sent after a follower's proposal carry it: their last index is the one to await. */
  private learnAwaitedIndexes(messages: Message[]): void {
    if (this.awaited.size === 0) return;
    let lastSent = INDEX_UNKNOWN;
    for (const message of messages) {
      const entries = message.type === MessageType.App ? message.entries : [];
      if (entries.length > 0) lastSent = Math.max(lastSent, entries[entries.length - 1]!.index);
    }
    if (lastSent === INDEX_UNKNOWN) return;
    for (const indexes of this.awaited.values()) {
      const unknown = indexes.indexOf(INDEX_UNKNOWN);
      if (unknown >= 0) indexes[unknown] = lastSent;
    }
  }

  /**
   * Whether `message` tells its follower a commit index some of its waiting clients need; the
   * indexes it reaches are forgotten.
   */
  private answersProposals(message: Message): boolean {
    const indexes = this.awaited.get(message.to);
    if (indexes === undefined) return false;
    const stillAwaited = indexes.filter((index) => index === INDEX_UNKNOWN || index > message.commit);
    if (stillAwaited.length === indexes.length) return false;
    if (stillAwaited.length === 0) this.awaited.delete(message.to);
    else this.awaited.set(message.to, stillAwaited);
    return true;
  }

  /** Notices waiting, for tests and metrics. */
  get heldCount(): number {
    return this.held.size;
  }
}
