import { planTasks } from './pool';
import type { GlobalOptions, UnaryWorkloadOptions } from '../options';

const workload: UnaryWorkloadOptions = {
  command: 'put', keySize: 8, valSize: 8, keySpaceSize: 1, sequentialKeys: true, rate: 1000,
  rangeKey: '', rangeEnd: '', consistency: 'l', txnOps: 1,
};

describe('planTasks', () => {
  it('spreads connections over endpoints and splits clients, requests and rate across workers', () => {
    const global: GlobalOptions = { endpoints: ['a:1', 'b:2', 'c:3'], conns: 5, clients: 11, total: 101, precise: false, output: 'text', workers: 2 };
    const tasks = planTasks(global, workload);
    expect(tasks.map((t) => t.connectionTargets)).toEqual([['a:1', 'b:2', 'c:3'], ['a:1', 'b:2']]);
    expect(tasks.map((t) => t.clients)).toEqual([6, 5]);
    expect(tasks.map((t) => t.requests)).toEqual([51, 50]);
    expect(tasks.map((t) => t.startIndex)).toEqual([0, 51]);
    expect(tasks.map((t) => t.rate)).toEqual([500, 500]);
  });
});
