// The rule for phases where etcd varies: a transcript is accepted only if it equals some etcd run.
import type { NormalizedStep } from './replay';
import { EXTRA_RUNS_MAX, EtcdReference } from './reference';
import type { Phase, Session } from './session';

function phase(name: string, varies: boolean): Phase {
  return {
    name,
    memberFlags: [],
    endpointForm: 'url',
    steps: [{ kind: 'run', id: 'fill', section: 'quota cycle', argv: ['put', 'key'] }],
    ...(varies ? { etcdOutcomeVaries: 'test' } : {}),
  };
}

function fillStep(phaseName: string, okCount: number): NormalizedStep {
  return { phase: phaseName, key: `${phaseName} / fill`, section: 'quota cycle', command: 'etcdctl put key', stdout: 'OK\n'.repeat(okCount), stderr: '', exit: '1' };
}

/** A fake etcd whose successive replays of the phase accept the given numbers of puts. */
function fakeEtcd(okCounts: number[]) {
  const calls: string[] = [];
  const replay = async (p: Phase) => {
    calls.push(p.name);
    return [fillStep(p.name, okCounts[calls.length - 1] ?? 0)];
  };
  return { calls, replay };
}

describe('EtcdReference', () => {
  it('accepts a varying phase that matches a later etcd run, replaying only as needed', async () => {
    const session: Session = { phases: [phase('C', true)] };
    const etcd = fakeEtcd([8, 10]);
    const reference = new EtcdReference(session, [fillStep('C', 8)], etcd.replay);
    expect(await reference.differences([fillStep('C', 8)], 'quota cycle')).toEqual([]);
    expect(etcd.calls).toEqual([]);
    expect(await reference.differences([fillStep('C', 10)], 'quota cycle')).toEqual([]);
    expect(etcd.calls).toEqual(['C', 'C']);
  });

  it('rejects an outcome no etcd run produced', async () => {
    const session: Session = { phases: [phase('C', true)] };
    const etcd = fakeEtcd([8, 10]);
    const reference = new EtcdReference(session, [fillStep('C', 8)], etcd.replay);
    const differences = await reference.differences([fillStep('C', 9)], 'quota cycle');
    expect(differences.map((d) => d.key)).toEqual(['C / fill']);
    expect(etcd.calls).toHaveLength(EXTRA_RUNS_MAX);
    expect(differences[0]!.report).toContain(`${EXTRA_RUNS_MAX} further etcd runs did not match either`);
  });

  it('never replays a phase where etcd is deterministic', async () => {
    const session: Session = { phases: [phase('A', false)] };
    const etcd = fakeEtcd([10]);
    const reference = new EtcdReference(session, [fillStep('A', 8)], etcd.replay);
    expect((await reference.differences([fillStep('A', 10)], 'quota cycle')).length).toBe(1);
    expect(etcd.calls).toEqual([]);
  });
});
