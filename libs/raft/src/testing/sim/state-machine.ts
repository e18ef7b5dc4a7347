// The replicated application of the simulator: it records which proposals were applied, in
// order, and keeps a running digest of everything applied (including conf changes and empty
// leader entries), so two nodes agree on their state iff their digests at an index agree.
import { hash53 } from '../prng';

export interface StateMachineSnapshot {
  index: number;
  digest: number;
  proposals: string[];
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

export class SimStateMachine {
  private appliedIndexValue = 0;
  private digestValue = 0;
  private readonly proposals: string[] = [];
  private readonly seen = new Set<string>();

  get appliedIndex(): number {
    return this.appliedIndexValue;
  }

  get digest(): number {
    return this.digestValue;
  }

  get proposalCount(): number {
    return this.proposals.length;
  }

  contains(proposal: string): boolean {
    return this.seen.has(proposal);
  }

  /**
   * Applies the entry at `index` with payload identity `key`; `proposal` is set for client
   * commands. Returns false if the proposal was already applied (a duplicate commit).
   */
  apply(index: number, key: string, proposal: string | undefined): boolean {
    this.appliedIndexValue = index;
    this.digestValue = hash53(`${this.digestValue}|${index}|${key}`);
    if (proposal === undefined) return true;
    if (this.seen.has(proposal)) return false;
    this.seen.add(proposal);
    this.proposals.push(proposal);
    return true;
  }

  encode(): Uint8Array {
    const snap: StateMachineSnapshot = { index: this.appliedIndexValue, digest: this.digestValue, proposals: this.proposals };
    return encoder.encode(JSON.stringify(snap));
  }

  /** The empty state a cluster is bootstrapped with, as of log index `index`. */
  static initial(index: number): SimStateMachine {
    const sm = new SimStateMachine();
    sm.appliedIndexValue = index;
    return sm;
  }

  static decode(data: Uint8Array): SimStateMachine {
    const sm = new SimStateMachine();
    if (data.length === 0) throw new Error('sim: snapshot without state machine data');
    const snap = JSON.parse(decoder.decode(data)) as StateMachineSnapshot;
    sm.appliedIndexValue = snap.index;
    sm.digestValue = snap.digest;
    for (const p of snap.proposals) {
      sm.proposals.push(p);
      sm.seen.add(p);
    }
    return sm;
  }
}
