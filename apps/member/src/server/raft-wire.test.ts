import { EntryType, MessageType, newMessage, type Entry, type Message } from '@keel/raft';
import { decodeWithGeneratedCodec, encodeWithGeneratedCodec } from './raft-codec';
import { encodeMessageWithoutSnapshot, fitsRaftWire, readMessage } from './raft-wire';

/** A small deterministic generator, so a failure names a reproducible case. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Numbers across varint lengths, zero (left out on the wire) and 2^53 - 1 included. */
function wireNumber(random: () => number): number {
  const pick = random();
  if (pick < 0.2) return 0;
  if (pick < 0.3) return Number.MAX_SAFE_INTEGER;
  return Math.floor(random() * 2 ** Math.floor(random() * 53));
}

function nodeId(random: () => number): bigint {
  const pick = random();
  if (pick < 0.2) return 0n;
  if (pick < 0.3) return 0xffff_ffff_ffff_ffffn;
  return (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
}

function bytes(random: () => number, max: number): Uint8Array {
  return Uint8Array.from({ length: Math.floor(random() * max) }, () => Math.floor(random() * 256));
}

function randomMessage(random: () => number): Message {
  const entries: Entry[] = Array.from({ length: Math.floor(random() * 4) }, () => ({
    type: random() < 0.8 ? EntryType.Normal : EntryType.ConfChangeV2,
    term: wireNumber(random),
    index: wireNumber(random),
    data: bytes(random, 300),
  }));
  const context = random() < 0.3 ? bytes(random, 20) : undefined;
  return newMessage({
    type: Math.floor(random() * 19) as MessageType,
    to: nodeId(random),
    from: nodeId(random),
    term: wireNumber(random),
    logTerm: wireNumber(random),
    index: wireNumber(random),
    commit: wireNumber(random),
    reject: random() < 0.5,
    rejectHint: wireNumber(random),
    entries,
    ...(context && context.length > 0 ? { context } : {}),
  });
}

/** Comparable form: byte arrays as plain arrays (views and copies compare equal). */
function plain(m: Message): unknown {
  return {
    ...m,
    context: m.context ? [...m.context] : undefined,
    entries: m.entries.map((e) => ({ ...e, data: [...e.data] })),
  };
}

describe('raft wire codec', () => {
  it('writes the generated encoder’s bytes and reads what it reads, over 2,000 random messages', () => {
    const random = generator(7);
    for (let i = 0; i < 2000; i++) {
      const message = randomMessage(random);
      expect(fitsRaftWire(message)).toBe(true);
      const expected = Buffer.from(encodeWithGeneratedCodec(message));
      const written = encodeMessageWithoutSnapshot(message);
      expect(written.equals(expected)).toBe(true);
      expect(plain(readMessage(expected)!)).toEqual(plain(decodeWithGeneratedCodec(expected)));
    }
  });

  it('reads 64-bit node IDs exactly', () => {
    const message = newMessage({ type: MessageType.Heartbeat, to: 0xffff_ffff_ffff_fffen, from: 0x8e9e_05c5_2164_694dn, term: 3 });
    const read = readMessage(encodeMessageWithoutSnapshot(message))!;
    expect(read.to).toBe(0xffff_ffff_ffff_fffen);
    expect(read.from).toBe(0x8e9e_05c5_2164_694dn);
  });

  it('reads IDs seen before and unseen ones alike, through more IDs than it remembers', () => {
    const random = generator(11);
    const ids = Array.from({ length: 40 }, () => nodeId(random));
    // Same low 49 bits, different high bits: the halves are compared, not just the low one.
    ids.push(5n, 5n | (1n << 49n), 5n | (1n << 63n), 1n << 63n);
    for (let round = 0; round < 3; round++) {
      for (const [i, id] of ids.entries()) {
        const other = ids[(i * 7 + round) % ids.length]!;
        const read = readMessage(encodeMessageWithoutSnapshot(newMessage({ type: MessageType.AppResp, to: id, from: other, term: 2 })))!;
        expect(read.to).toBe(id);
        expect(read.from).toBe(other);
      }
    }
  });

  it('drops ID bits past 64 as the generated decoder does', () => {
    const overlong = Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]); // to, 70 bits
    expect(readMessage(overlong)!.to).toBe(0xffff_ffff_ffff_ffffn);
    expect(plain(readMessage(overlong)!)).toEqual(plain(decodeWithGeneratedCodec(overlong)));
  });

  it('skips unknown fields of every wire type, as the generated decoder does', () => {
    const message = newMessage({ type: MessageType.App, to: 2n, from: 1n, term: 5, index: 9, entries: [{ type: 0, term: 5, index: 10, data: Uint8Array.of(1, 2) }] });
    const known = Buffer.from(encodeWithGeneratedCodec(message));
    // field 20 varint, field 21 fixed64, field 22 length-delimited, field 23 fixed32
    const unknown = Buffer.from([0xa0, 0x01, 0x7f, 0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xb2, 0x01, 2, 9, 9, 0xbd, 0x01, 1, 2, 3, 4]);
    const withUnknown = Buffer.concat([unknown, known]);
    expect(plain(readMessage(withUnknown)!)).toEqual(plain(decodeWithGeneratedCodec(withUnknown)));
  });

  it('leaves messages with a snapshot to the generated codec', () => {
    const message = newMessage({
      type: MessageType.Snap,
      to: 2n,
      from: 1n,
      term: 4,
      snapshot: { data: Uint8Array.of(5), metadata: { index: 30, term: 4, confState: { voters: [1n, 2n], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } } },
    });
    expect(fitsRaftWire(message)).toBe(false);
    expect(readMessage(encodeWithGeneratedCodec(message))).toBeUndefined();
  });

  it('leaves numbers the wire codec cannot write to the generated codec', () => {
    expect(fitsRaftWire(newMessage({ type: MessageType.App, term: 2 ** 53 }))).toBe(false);
    expect(fitsRaftWire(newMessage({ type: MessageType.App, entries: [{ type: 0, term: 1, index: -1, data: new Uint8Array(0) }] }))).toBe(false);
  });

  it('refuses numbers above 2^53 and truncated input', () => {
    const tooBig = Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]); // term = 2^63 - 1
    expect(() => readMessage(tooBig)).toThrow(/exceeds 2\^53/);
    const full = encodeMessageWithoutSnapshot(newMessage({ type: MessageType.App, to: 2n, entries: [{ type: 0, term: 1, index: 2, data: Uint8Array.of(1, 2, 3) }] }));
    expect(() => readMessage(full.subarray(0, full.length - 1))).toThrow(/runs past the end/);
    expect(() => readMessage(Buffer.from([0x20, 0x80]))).toThrow(/truncated varint/);
  });
});
