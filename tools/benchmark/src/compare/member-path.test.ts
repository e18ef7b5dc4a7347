import fs from 'node:fs';
import path from 'node:path';
import { keelMemberPath } from './compare';

describe('keelMemberPath', () => {
  it('finds the repository launcher by looking upwards from the code, not the harness', () => {
    const found = keelMemberPath(undefined);
    expect(path.basename(found)).toBe('member');
    expect(path.basename(path.dirname(found))).toBe('bin');
    expect(fs.existsSync(found)).toBe(true);
  });

  it('uses an explicit --keel-binary as given', () => {
    expect(keelMemberPath('/opt/keel/member')).toBe('/opt/keel/member');
  });
});
