// Shared test helpers: stores in temp dirs that are removed afterwards.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MvccStore, type StoreOptions } from '../src';

export const b = (text: string): Buffer => Buffer.from(text, 'utf8');
export const s = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** Creates temp dirs and removes them (closing stores first) in cleanup(). */
export class TempStores {
  private readonly dirs: string[] = [];
  private readonly stores: MvccStore[] = [];

  dir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'keel-mvcc-'));
    this.dirs.push(dir);
    return dir;
  }

  async open(dir = this.dir(), options: StoreOptions = {}): Promise<MvccStore> {
    const store = await MvccStore.open(dir, options);
    this.stores.push(store);
    return store;
  }

  async cleanup(): Promise<void> {
    for (const store of this.stores.splice(0)) await store.close();
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}
