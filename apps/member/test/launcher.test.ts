// bin/member's choice of Node flags: the young generation it sets (read back from the member's
// own heap metrics) and KEEL_NODE_FLAGS replacing it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { killAll, removeTempDirs } from '@keel/harness';
import { readFileSync } from 'node:fs';
import { startMember, type RunningMember } from './support';

jest.setTimeout(90_000);

afterAll(async () => {
  await killAll();
  removeTempDirs();
});

const MIB = 1024 * 1024;

async function newSpaceBytes(member: RunningMember): Promise<number> {
  const text = await (await fetch(`${member.clientUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_heap_space_size_total_bytes{space="new"}'));
  expect(line).toBeDefined();
  return Number(line!.split(' ')[1]);
}

function environmentOf(member: RunningMember): string[] {
  return readFileSync(`/proc/${member.process.child.pid}/environ`, 'utf8').split('\0');
}

test('bin/member starts with a 32 MiB young generation and does not pass its flags on', async () => {
  const member = await startMember({ name: 'flags-default', env: { KEEL_NODE_FLAGS: undefined } });
  expect(await newSpaceBytes(member)).toBeGreaterThanOrEqual(32 * MIB);
  expect(environmentOf(member).some((v) => v.startsWith('KEEL_NODE_FLAGS='))).toBe(false);
});

test('KEEL_NODE_FLAGS replaces the flags (empty: Node defaults)', async () => {
  const member = await startMember({ name: 'flags-empty', env: { KEEL_NODE_FLAGS: '' } });
  expect(await newSpaceBytes(member)).toBeLessThan(32 * MIB);
  const custom = await startMember({
    name: 'flags-custom',
    env: { KEEL_NODE_FLAGS: '--min-semi-space-size=48 --max-semi-space-size=64' },
  });
  expect(await newSpaceBytes(custom)).toBeGreaterThanOrEqual(48 * MIB);
});
