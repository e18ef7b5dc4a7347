import { MessageType, StateType } from '../../src/types';
import { Network, logSummary } from './helpers';

describe('smoke', () => {
  it('elects a leader and replicates', () => {
    const net = new Network(3);
    net.campaign(1);
    expect(net.node(1).state).toBe(StateType.Leader);
    net.propose(1, 'x');
    for (const id of [1, 2, 3]) {
      expect(logSummary(net.node(id))).toEqual(['1/1', '1/2']);
      expect(net.node(id).raftLog.committed).toBe(2);
    }
    expect(net.delivered.some((m) => m.type === MessageType.AppResp)).toBe(true);
  });
});
