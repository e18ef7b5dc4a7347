import { MessageType, newMessage } from '@keel/raft';
import { decodeMessage, encodeMessage } from './raft-codec';

describe('raft message codec', () => {
  it('round-trips every field, including 64-bit node IDs and a snapshot', () => {
    const message = newMessage({
      type: MessageType.App,
      to: 0xffff_ffff_ffff_fffen,
      from: 0x8e9e_05c5_2164_694dn,
      term: 7,
      logTerm: 6,
      index: 41,
      commit: 40,
      reject: true,
      rejectHint: 3,
      context: new Uint8Array([1, 2, 3]),
      entries: [{ term: 7, index: 42, type: 0, data: new Uint8Array([9, 9]) }],
      snapshot: {
        data: new Uint8Array([5]),
        metadata: {
          index: 30,
          term: 5,
          confState: { voters: [1n, 2n], learners: [3n], votersOutgoing: [], learnersNext: [], autoLeave: false },
        },
      },
    });
    const decoded = decodeMessage(encodeMessage(message));
    expect(decoded.to).toBe(message.to);
    expect(decoded.from).toBe(message.from);
    expect({ ...decoded, context: [...decoded.context!], entries: decoded.entries.map((e) => ({ ...e, data: [...e.data] })) }).toEqual({
      ...message,
      context: [1, 2, 3],
      entries: [{ term: 7, index: 42, type: 0, data: [9, 9] }],
      snapshot: { ...message.snapshot, data: Buffer.from([5]) },
    });
  });
});
