// How a member joining an existing cluster (--initial-cluster-state=existing) learns its member
// ID and the cluster's members: it asks the peers named in --initial-cluster over their peer
// URLs, as etcd does. Served on the peer port as HTTP/1.1 GET /members; the body lists members
// with decimal IDs, the X-Etcd-Cluster-ID header carries the cluster ID in hex.
import http from 'node:http';
import type { MemberInfo, Membership } from './membership';

export const MEMBERS_PATH = '/members';
const CLUSTER_ID_HEADER = 'x-etcd-cluster-id';

interface MemberWire {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export function peerMembersHandler(membership: Membership): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET' || req.url !== MEMBERS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
      return;
    }
    const body: MemberWire[] = membership.list().map((m) => ({
      id: m.id.toString(),
      name: m.name,
      peerURLs: m.peerUrls,
      clientURLs: m.clientUrls,
      isLearner: m.isLearner,
    }));
    res
      .writeHead(200, { 'content-type': 'application/json', [CLUSTER_ID_HEADER]: membership.clusterId.toString(16) })
      .end(JSON.stringify(body));
  };
}

export interface RemoteCluster {
  clusterId: bigint;
  members: MemberInfo[];
}

function fetchFrom(peerUrl: string, timeoutMs: number): Promise<RemoteCluster> {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL(MEMBERS_PATH, peerUrl), { timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          if (res.statusCode !== 200) throw new Error(`GET ${MEMBERS_PATH} on ${peerUrl}: status ${res.statusCode}`);
          const header = res.headers[CLUSTER_ID_HEADER];
          if (typeof header !== 'string') throw new Error(`GET ${MEMBERS_PATH} on ${peerUrl}: no cluster ID`);
          const wire = JSON.parse(Buffer.concat(chunks).toString('utf8')) as MemberWire[];
          resolve({
            clusterId: BigInt(`0x${header}`),
            members: wire.map((m) => ({
              id: BigInt(m.id),
              name: m.name,
              peerUrls: m.peerURLs,
              clientUrls: m.clientURLs,
              isLearner: m.isLearner,
            })),
          });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${MEMBERS_PATH} on ${peerUrl}: timed out`)));
    req.on('error', reject);
  });
}

/** Asks each peer URL in turn; the first answer wins. */
export async function fetchRemoteCluster(peerUrls: readonly string[], timeoutMs = 2000): Promise<RemoteCluster> {
  const errors: string[] = [];
  for (const url of peerUrls) {
    try {
      return await fetchFrom(url, timeoutMs);
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  throw new Error(`could not retrieve the cluster's members from any peer: ${errors.join('; ')}`);
}
