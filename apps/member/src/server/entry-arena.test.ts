import { EntryType, type Entry } from '@keel/raft';
import { ChunkedMemoryStorage, ENTRY_CHUNK_BYTES, ENTRY_COPY_MAX_BYTES, EntryArena } from './entry-arena';

function entry(index: number, data: Uint8Array, term = 1): Entry {
  return { term, index, type: EntryType.Normal, data };
}

function bytes(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (seed * 31 + i) & 0xff);
}

describe('EntryArena', () => {
  it('copies entries side by side into one chunk, then starts a new one', () => {
    const arena = new EntryArena();
    const a = arena.copy(bytes(1000, 1));
    const b = arena.copy(bytes(1000, 2));
    expect(a.buffer).toBe(b.buffer);
    expect(a.buffer.byteLength).toBe(ENTRY_CHUNK_BYTES);
    expect(b.byteOffset).toBe(a.byteOffset + 1000);
    expect(Buffer.from(a).equals(Buffer.from(bytes(1000, 1)))).toBe(true);
    expect(Buffer.from(b).equals(Buffer.from(bytes(1000, 2)))).toBe(true);

    let last = b;
    while (last.buffer === a.buffer) last = arena.copy(bytes(ENTRY_COPY_MAX_BYTES, 3));
    expect(last.byteOffset).toBe(0);
    expect(Buffer.from(a).equals(Buffer.from(bytes(1000, 1)))).toBe(true); // earlier copies untouched
  });

  it('copies, so later changes to the source do not reach the log', () => {
    const arena = new EntryArena();
    const source = bytes(64, 4);
    const copy = arena.copy(source);
    source.fill(0);
    expect(Buffer.from(copy).equals(Buffer.from(bytes(64, 4)))).toBe(true);
  });
});

describe('ChunkedMemoryStorage', () => {
  it('serves the same entries as appended, with small data moved into chunks', () => {
    const storage = new ChunkedMemoryStorage();
    const big = bytes(ENTRY_COPY_MAX_BYTES + 1, 5);
    const appended = [entry(1, bytes(10, 6)), entry(2, new Uint8Array(0)), entry(3, big), entry(4, bytes(300, 7))];
    storage.append(appended);
    const read = storage.entries(1, 5, Number.MAX_SAFE_INTEGER);
    expect(read.map((e) => [e.index, e.term, Buffer.from(e.data).toString('hex')])).toEqual(
      appended.map((e) => [e.index, e.term, Buffer.from(e.data).toString('hex')]),
    );
    expect(read[0]!.data).not.toBe(appended[0]!.data);
    expect(read[0]!.data.buffer).toBe(read[3]!.data.buffer);
    expect(read[2]!.data).toBe(big); // too large to copy
  });

  it('keeps MemoryStorage semantics: a conflicting append truncates the suffix', () => {
    const storage = new ChunkedMemoryStorage();
    storage.append([entry(1, bytes(8, 1)), entry(2, bytes(8, 2)), entry(3, bytes(8, 3))]);
    storage.append([entry(2, bytes(8, 9), 2)]);
    expect(storage.lastIndex()).toBe(2);
    expect(storage.term(2)).toBe(2);
    expect(Buffer.from(storage.entries(2, 3, Number.MAX_SAFE_INTEGER)[0]!.data).equals(Buffer.from(bytes(8, 9)))).toBe(true);
  });
});
