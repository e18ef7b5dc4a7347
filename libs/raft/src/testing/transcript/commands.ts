// Transcript commands. Each handler reads its arguments, acts on the environment and prints
// what happened; the printed text is the block's output.
import { ProposalDroppedError } from '../../errors';
import { type ConfChangeSingle, type ConfChangeV2, ConfChangeTransition, ConfChangeType, type ConfState, emptyConfState } from '../../types';
import type { CommandArg, TranscriptBlock } from './parser';
import { type NodeOptions, TranscriptEnv } from './env';
import { formatStatus, formatEntry, formatSnapshot } from './format';

type Handler = (env: TranscriptEnv, args: Args) => void;

/** A mistake in the script itself (not a Raft outcome): aborts the run instead of becoming output. */
export class ScriptError extends Error {}

const encoder = new TextEncoder();

/** Argument access with errors that name the command. */
class Args {
  constructor(
    private readonly command: string,
    private readonly list: CommandArg[],
  ) {}

  positional(): string[] {
    return this.list.filter((a) => a.key === '').map((a) => a.values[0]!);
  }

  ids(): bigint[] {
    return this.positional().map((w) => parseId(w, this.command));
  }

  id(position: number): bigint {
    const word = this.positional()[position];
    if (word === undefined) throw new ScriptError(`${this.command}: missing node id (argument ${position + 1})`);
    return parseId(word, this.command);
  }

  keyed(key: string): string[] | undefined {
    return this.list.find((a) => a.key === key)?.values;
  }

  number(key: string, fallback: number): number {
    const v = this.keyed(key)?.[0];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new ScriptError(`${this.command}: ${key} must be an integer`);
    return n;
  }

  flag(key: string, fallback: boolean): boolean {
    const v = this.keyed(key)?.[0];
    return v === undefined ? fallback : v === 'true';
  }

  idList(key: string): bigint[] {
    return (this.keyed(key) ?? []).map((w) => parseId(w, this.command));
  }
}

function parseId(word: string, command: string): bigint {
  if (!/^[1-9][0-9]*$/.test(word)) throw new ScriptError(`${command}: bad node id '${word}'`);
  return BigInt(word);
}

/** IDs given as arguments, or every node when none are given. */
function targets(env: TranscriptEnv, args: Args): bigint[] {
  const ids = args.ids();
  return ids.length > 0 ? ids : env.sortedIds();
}

function tryPropose(env: TranscriptEnv, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ProposalDroppedError)) throw err;
    env.print(`proposal dropped: ${err.message}`);
  }
}

const CHANGE_BY_LETTER: Record<string, ConfChangeType> = {
  v: ConfChangeType.AddNode,
  l: ConfChangeType.AddLearnerNode,
  r: ConfChangeType.RemoveNode,
  u: ConfChangeType.UpdateNode,
};

/** `v3 l4 r2` → changes; transition=auto|implicit|explicit. */
function parseConfChange(args: Args): ConfChangeV2 {
  const changes: ConfChangeSingle[] = args.positional().slice(1).map((word) => {
    const type = CHANGE_BY_LETTER[word[0] ?? ''];
    if (type === undefined) throw new ScriptError(`propose-conf-change: bad change '${word}' (want v<id>, l<id>, r<id>, u<id>)`);
    return { type, nodeId: parseId(word.slice(1), 'propose-conf-change') };
  });
  const name = (args.keyed('transition')?.[0] ?? 'auto').toLowerCase();
  const transition = { auto: ConfChangeTransition.Auto, implicit: ConfChangeTransition.Implicit, explicit: ConfChangeTransition.Explicit }[name];
  if (transition === undefined) throw new ScriptError(`propose-conf-change: bad transition '${name}'`);
  return { transition, changes };
}

const handlers: Record<string, Handler> = {
  /** add-nodes <n> voters=(..) [learners=(..)] [index=N] [prevote=true] [checkquorum=true] [election=10] [heartbeat=1] [max-inflight=N] [max-size=N] */
  'add-nodes': (env, args) => {
    const count = Number(args.positional()[0]);
    if (!Number.isInteger(count) || count < 1) throw new ScriptError('add-nodes: count required');
    const conf: ConfState = { ...emptyConfState(), voters: args.idList('voters'), learners: args.idList('learners') };
    const options: NodeOptions = {
      electionTick: args.number('election', 10),
      heartbeatTick: args.number('heartbeat', 1),
      preVote: args.flag('prevote', false),
      checkQuorum: args.flag('checkquorum', false),
      maxInflightMsgs: args.number('max-inflight', 256),
      maxSizePerMsg: args.number('max-size', 1024 * 1024),
    };
    const index = args.number('index', 0);
    const first = BigInt(env.nodes.size + 1);
    for (let i = 0n; i < BigInt(count); i++) {
      const node = env.addNode(first + i, conf, index, options);
      for (const line of formatStatus(node.raw.status())) env.print(line);
    }
  },
  campaign: (env, args) => env.node(args.id(0)).raw.campaign(),
  propose: (env, args) => {
    const data = args.positional()[1] ?? '';
    tryPropose(env, () => env.node(args.id(0)).raw.propose(encoder.encode(data)));
  },
  'propose-conf-change': (env, args) => {
    const cc = parseConfChange(args);
    const node = env.node(args.id(0));
    if (args.flag('v1', false)) {
      const only = cc.changes[0];
      if (cc.changes.length !== 1 || only === undefined) throw new ScriptError('propose-conf-change: v1 takes exactly one change');
      tryPropose(env, () => node.raw.proposeConfChange({ type: only.type, nodeId: only.nodeId }));
    } else {
      tryPropose(env, () => node.raw.proposeConfChange(cc));
    }
  },
  'transfer-leader': (env, args) => env.node(args.id(0)).raw.transferLeader(args.id(1)),
  'read-index': (env, args) => env.node(args.id(0)).raw.readIndex(encoder.encode(args.positional()[1] ?? '')),
  'tick-election': (env, args) => tickTimes(env, args, (o) => o.electionTick),
  'tick-heartbeat': (env, args) => tickTimes(env, args, (o) => o.heartbeatTick),
  tick: (env, args) => {
    const n = args.number('times', 1);
    for (const id of args.ids()) for (let i = 0; i < n; i++) env.node(id).raw.tick();
  },
  'process-ready': (env, args) => {
    env.processReady(targets(env, args));
  },
  'deliver-msgs': (env, args) => {
    env.deliver(targets(env, args), args.flag('drop', false));
  },
  stabilize: (env, args) => env.stabilize(targets(env, args)),
  /** partition (1) (2,3): cuts every link between the groups, both directions. */
  partition: (env, args) => {
    const groups = args.positional().map((g) => g.replace(/[()]/g, '').split(',').filter((w) => w !== '').map((w) => parseId(w, 'partition')));
    env.partition(groups);
  },
  /** cut-link 1 2: messages from 1 to 2 are dropped (asymmetric). */
  'cut-link': (env, args) => env.cutLink(args.id(0), args.id(1)),
  heal: (env) => env.heal(),
  compact: (env, args) => {
    const id = args.id(0);
    const index = Number(args.positional()[1] ?? env.node(id).appliedIndex);
    env.compact(id, index);
    printLog(env, id);
  },
  restart: (env, args) => {
    const id = args.id(0);
    env.restart(id);
    for (const line of formatStatus(env.node(id).raw.status())) env.print(line);
  },
  'report-unreachable': (env, args) => env.node(args.id(0)).raw.reportUnreachable(args.id(1)),
  'report-snapshot': (env, args) => env.node(args.id(0)).raw.reportSnapshot(args.id(1), args.flag('failed', false)),
  status: (env, args) => {
    for (const id of targets(env, args)) for (const line of formatStatus(env.node(id).raw.status())) env.print(line);
  },
  'raft-log': (env, args) => {
    for (const id of targets(env, args)) printLog(env, id);
  },
  applied: (env, args) => {
    for (const id of targets(env, args)) {
      const node = env.node(id);
      env.print(`${id}: applied=${node.appliedIndex} [${node.applied.join(' ')}]`);
    }
  },
  'log-level': (env, args) => {
    env.logLevel = TranscriptEnv.parseLevel(args.positional()[0] ?? 'info');
  },
};

function tickTimes(env: TranscriptEnv, args: Args, times: (o: NodeOptions) => number): void {
  for (const id of args.ids()) {
    const node = env.node(id);
    for (let i = 0; i < times(node.options); i++) node.raw.tick();
  }
}

function printLog(env: TranscriptEnv, id: bigint): void {
  const storage = env.node(id).storage;
  const snap = storage.snapshot();
  env.print(`${id}: log [${storage.firstIndex()}, ${storage.lastIndex()}]${snap.metadata.index > 0 ? ` snapshot ${formatSnapshot(snap)}` : ''}`);
  const last = storage.lastIndex();
  if (last >= storage.firstIndex()) for (const e of storage.entries(storage.firstIndex(), last + 1, Number.MAX_SAFE_INTEGER)) env.print(`  ${formatEntry(e)}`);
}

/** Runs one block and returns its output text. Errors become output (`error: ...`) so scripts can expect them. */
export function runBlock(env: TranscriptEnv, block: TranscriptBlock): string {
  const handler = handlers[block.name];
  if (handler === undefined) throw new ScriptError(`line ${block.line}: unknown command '${block.name}'`);
  try {
    handler(env, new Args(block.name, block.args));
  } catch (err) {
    if (err instanceof ScriptError) throw err;
    env.print(`error: ${err instanceof Error ? err.message : String(err)}`);
  }
  return env.takeOutput();
}
