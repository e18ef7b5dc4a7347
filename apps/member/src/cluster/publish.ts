// After start, a member publishes its name and client URLs through raft (retrying until a
// leader accepts), so every member's list shows how to reach it.
import type { Logger } from 'pino';
import type { MemberConfig } from '../config';
import type { Proposer } from '../server/proposer';

/** Publishes this member's name and client URLs through raft once a leader exists. */
export function publishAttributes(proposer: Proposer, memberId: bigint, config: MemberConfig, logger: Logger): () => void {
  let timer: NodeJS.Timeout;
  let stopped = false;
  const attempt = () => {
    if (stopped) return;
    proposer
      .propose({
        $case: 'clusterMemberAttrSet',
        value: { memberId, attributes: { name: config.name, clientUrls: [...config.advertiseClientUrls] } },
      })
      .then(() => logger.info('published member attributes'))
      .catch(() => {
        timer = setTimeout(attempt, 500);
      });
  };
  timer = setTimeout(attempt, 0);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
