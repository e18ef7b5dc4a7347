// Steady write load for the "no acknowledged write is lost" check: concurrent writers, each
// with its own etcd3 client over every endpoint, put unique keys and remember exactly the
// puts the cluster ACKNOWLEDGED. A put that failed or timed out has an unknown outcome (it
// may or may not have committed) and is not recorded; nothing is ever assumed about it.
import { Etcd3 } from 'etcd3';

/** Small seeded generator (mulberry32) so a failing run reproduces from its printed seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function clientFor(endpoints: string[], callTimeoutMs = 5000): Etcd3 {
  return new Etcd3({
    hosts: endpoints.map((e) => `http://${e}`),
    dialTimeout: 2000,
    defaultCallOptions: () => ({ deadline: Date.now() + callTimeoutMs }),
  });
}

export interface WriteLoad {
  /** key → value of every acknowledged put so far. */
  readonly acknowledged: Map<string, string>;
  /** Puts that failed (outcome unknown). */
  failures(): number;
  /** Stops the writers and waits for their in-flight puts to settle. */
  stop(): Promise<void>;
}

export function startWriteLoad(options: { endpoints: string[]; writers: number; prefix: string; runId: string }): WriteLoad {
  const acknowledged = new Map<string, string>();
  let failed = 0;
  let stopping = false;
  const clients = Array.from({ length: options.writers }, () => clientFor(options.endpoints));

  const writer = async (client: Etcd3, writerIndex: number) => {
    for (let n = 0; !stopping; n++) {
      const key = `${options.prefix}w${writerIndex}/${String(n).padStart(6, '0')}`;
      const value = `${options.runId}:${writerIndex}:${n}`;
      try {
        await client.put(key).value(value);
        acknowledged.set(key, value);
      } catch {
        failed++;
        await new Promise((r) => setTimeout(r, 50)); // a member is down or an election runs: do not spin
      }
    }
  };
  const running = clients.map((c, i) => writer(c, i));

  return {
    acknowledged,
    failures: () => failed,
    async stop() {
      stopping = true;
      await Promise.all(running);
      for (const c of clients) c.close();
    },
  };
}

/** Acknowledged keys a linearizable read does not return with their acknowledged value. */
export async function lostWrites(endpoints: string[], prefix: string, acknowledged: Map<string, string>): Promise<string[]> {
  const client = clientFor(endpoints, 30_000);
  try {
    const stored = await client.getAll().prefix(prefix).strings();
    const lost: string[] = [];
    for (const [key, value] of acknowledged) {
      if (stored[key] !== value) lost.push(`${key}: acknowledged ${value}, read ${stored[key] ?? '(missing)'}`);
    }
    return lost;
  } finally {
    client.close();
  }
}
