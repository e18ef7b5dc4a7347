// After start, a member publishes its name and client URLs through raft (retrying until a
// leader accepts), so every member's list shows how to reach it.
import type { Logger } from 'pino';
import type { MemberConfig } from '../config';
import type { Proposer } from '../server/proposer';

/**
 * How long one publish attempt may wait. Short, because a proposal forwarded while the
 * peer links are still coming up may be dropped, and setting the same attributes twice is
 * harmless.
 */
const PUBLISH_ATTEMPT_TIMEOUT_MS = 1000;

/** Publishes this member's name and client URLs through raft once a leader exists. */
export function publishAttributes(proposer: Proposer, memberId: bigint, config: MemberConfig, logger: Logger): () => void {
  let timer: NodeJS.Timeout;
  let stopped = false;
  const attempt = () => {
    if (stopped) return;
    proposer
      .propose(
        {
          $case: 'clusterMemberAttrSet',
          value: { memberId, attributes: { name: config.name, clientUrls: [...config.advertiseClientUrls] } },
        },
        PUBLISH_ATTEMPT_TIMEOUT_MS,
      )
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
