import fc from 'fast-check';
import { etcdserverpb } from '@keel/proto';
import { GrpcStatus } from '../rpc/status';
import { BodyTooLargeError, JsonValueSplitter, parseMessage, withProtoNames } from './json-body';

describe('JsonValueSplitter', () => {
  test('cuts concatenated objects wherever the chunk boundaries fall', () => {
    const objects = [{ a: 1 }, { b: 'x}y{"z' }, { c: [1, { d: '\\"' }] }, {}];
    const text = objects.map((o) => JSON.stringify(o)).join('\n ');
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 6 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const splitter = new JsonValueSplitter(1024);
        const out: string[] = [];
        let from = 0;
        for (const point of [...points, text.length]) {
          out.push(...splitter.push(Buffer.from(text.slice(from, point))));
          from = point;
        }
        expect(out.map((t) => JSON.parse(t) as unknown)).toEqual(objects);
        expect(splitter.rest()).toBe('');
      }),
    );
  });

  test('a multi-byte character split between chunks survives', () => {
    const bytes = Buffer.from(JSON.stringify({ k: 'é€' }));
    const splitter = new JsonValueSplitter(1024);
    const first = splitter.push(bytes.subarray(0, 8));
    const second = splitter.push(bytes.subarray(8));
    expect([...first, ...second].map((t) => JSON.parse(t) as unknown)).toEqual([{ k: 'é€' }]);
  });

  test('an unfinished object is left in rest(); one over the bound is refused', () => {
    const splitter = new JsonValueSplitter(16);
    expect(splitter.push(Buffer.from('{"a":1} {"b"'))).toEqual(['{"a":1}']);
    expect(splitter.rest()).toBe('{"b"');
    expect(() => splitter.push(Buffer.from(':"0123456789abcdef'))).toThrow(BodyTooLargeError);
  });
});

describe('request decoding', () => {
  test('camelCase keys get their proto (snake_case) names, nested and in arrays', () => {
    expect(withProtoNames({ rangeEnd: 'x', success: [{ requestPut: { prevKv: true } }], ID: '1' })).toEqual({
      rangeEnd: 'x',
      range_end: 'x',
      success: [{ requestPut: { prevKv: true, prev_kv: true }, request_put: { prevKv: true, prev_kv: true } }],
      ID: '1',
    });
  });

  test('proto names with capitals (ID, TTL, peerURLs) still decode', () => {
    expect(parseMessage('{"ID":"7","TTL":30}', etcdserverpb.LeaseGrantRequest.fromJSON)).toEqual({ ID: 7n, TTL: 30n });
    expect(parseMessage('{"peerURLs":["http://a:1"]}', etcdserverpb.MemberAddRequest.fromJSON).peerURLs).toEqual(['http://a:1']);
  });

  test('a txn in etcd JSON decodes to the oneof shapes', () => {
    const txn = parseMessage(
      '{"compare":[{"key":"Zm9v","target":"VALUE","value":"YmFy"}],"success":[{"request_put":{"key":"Zm9v","value":"YmF6"}}]}',
      etcdserverpb.TxnRequest.fromJSON,
    );
    expect(txn.compare[0]).toMatchObject({ target: etcdserverpb.Compare_CompareTarget.VALUE, targetUnion: { $case: 'value', value: Buffer.from('bar') } });
    expect(txn.success[0]?.request).toMatchObject({ $case: 'requestPut', value: { key: Buffer.from('foo'), value: Buffer.from('baz') } });
  });

  test('bad JSON and bad field values are INVALID_ARGUMENT', () => {
    for (const text of ['{', 'null', '"s"', '{"limit":"x"}', '{"key":5}']) {
      expect(() => parseMessage(text, etcdserverpb.RangeRequest.fromJSON)).toThrow(expect.objectContaining({ code: GrpcStatus.INVALID_ARGUMENT }));
    }
  });
});
