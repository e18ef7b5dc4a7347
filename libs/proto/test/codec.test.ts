// Behaviour of the generated codecs that the rest of Keel relies on.
import { etcdserverpb, internal, mvccpb } from '../src/index';

const maxUint64 = (1n << 64n) - 1n;
const minInt64 = -(1n << 63n);

describe('64-bit fields', () => {
  it('round-trips the full uint64 range of member IDs', () => {
    for (const id of [0n, 1n, (1n << 53n) + 1n, maxUint64]) {
      const bytes = etcdserverpb.Member.encode({ ID: id, name: 'm', peerURLs: [], clientURLs: [], isLearner: false }).finish();
      expect(etcdserverpb.Member.decode(bytes).ID).toBe(id);
    }
  });

  it('round-trips negative and extreme int64 values', () => {
    for (const lease of [-1n, minInt64, (1n << 63n) - 1n]) {
      const bytes = etcdserverpb.PutRequest.encode(etcdserverpb.PutRequest.fromPartial({ lease })).finish();
      expect(etcdserverpb.PutRequest.decode(bytes).lease).toBe(lease);
    }
  });

  it('encodes a negative int64 as a ten-byte varint, as Go does', () => {
    const bytes = etcdserverpb.LeaseRevokeRequest.encode({ ID: -1n }).finish();
    expect(Buffer.from(bytes).toString('hex')).toBe('08ffffffffffffffffff01');
  });

  it('refuses a uint64 that does not fit instead of wrapping it', () => {
    expect(() => etcdserverpb.MemberRemoveRequest.encode({ ID: maxUint64 + 1n })).toThrow(/too large/);
  });
});

describe('messages', () => {
  it('omits default scalars, so an empty request is zero bytes', () => {
    expect(etcdserverpb.RangeRequest.encode(etcdserverpb.RangeRequest.create()).finish()).toHaveLength(0);
  });

  it('decodes bytes fields as Buffers and keeps every scalar present', () => {
    const kv = mvccpb.KeyValue.decode(mvccpb.KeyValue.encode(mvccpb.KeyValue.fromPartial({ key: Buffer.from('k') })).finish());
    expect(Buffer.isBuffer(kv.key)).toBe(true);
    expect(kv).toEqual({ key: Buffer.from('k'), createRevision: 0n, modRevision: 0n, version: 0n, value: Buffer.alloc(0), lease: 0n });
  });

  it('represents oneofs as tagged unions', () => {
    const txn: etcdserverpb.TxnRequest = {
      compare: [
        {
          result: etcdserverpb.Compare_CompareResult.EQUAL,
          target: etcdserverpb.Compare_CompareTarget.MOD,
          key: Buffer.from('a'),
          targetUnion: { $case: 'modRevision', value: 7n },
          rangeEnd: Buffer.alloc(0),
        },
      ],
      success: [{ request: { $case: 'requestPut', value: etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('a') }) } }],
      failure: [{ request: { $case: 'requestRange', value: etcdserverpb.RangeRequest.fromPartial({ key: Buffer.from('a') }) } }],
    };
    const decoded = etcdserverpb.TxnRequest.decode(etcdserverpb.TxnRequest.encode(txn).finish());
    expect(decoded).toEqual(txn);
    expect(decoded.compare[0]?.targetUnion?.$case).toBe('modRevision');
  });

  it('skips unknown fields, so newer clients are tolerated', () => {
    // PutRequest{key:"k"} followed by field 99 (varint 1), which Keel does not know.
    const bytes = Buffer.from('0a016b98060' + '1', 'hex');
    expect(etcdserverpb.PutRequest.decode(bytes).key.toString()).toBe('k');
  });

  it("maps to etcd's grpc-gateway JSON: proto field names, int64 as strings, bytes as base64", () => {
    const json = etcdserverpb.RangeResponse.toJSON(
      etcdserverpb.RangeResponse.fromPartial({
        header: { clusterId: maxUint64, revision: 5n },
        kvs: [{ key: Buffer.from('foo'), value: Buffer.from('bar'), modRevision: 5n }],
        count: 1n,
      }),
    ) as Record<string, unknown>;
    expect(json).toEqual({
      header: { cluster_id: '18446744073709551615', revision: '5' },
      kvs: [{ key: 'Zm9v', value: 'YmFy', mod_revision: '5' }],
      count: '1',
    });
    const parsed = etcdserverpb.RangeRequest.fromJSON({ key: 'Zm9v', range_end: 'Zm9w', limit: '10', sort_order: 'DESCEND' });
    expect(parsed.rangeEnd.toString()).toBe('fop');
    expect(parsed.limit).toBe(10n);
    expect(parsed.sortOrder).toBe(etcdserverpb.RangeRequest_SortOrder.DESCEND);
    const txn = etcdserverpb.TxnRequest.toJSON({
      compare: [],
      success: [{ request: { $case: 'requestPut', value: etcdserverpb.PutRequest.fromPartial({ key: Buffer.from('k'), prevKv: true }) } }],
      failure: [],
    });
    expect(txn).toEqual({ success: [{ request_put: { key: 'aw==', prev_kv: true } }] });
  });
});

describe('Keel-internal messages', () => {
  it('round-trips a raft request with a nested txn', () => {
    const request: internal.InternalRaftRequest = {
      header: { id: maxUint64, username: 'root', authRevision: 3n },
      request: {
        $case: 'txn',
        value: etcdserverpb.TxnRequest.fromPartial({
          success: [{ request: { $case: 'requestDeleteRange', value: etcdserverpb.DeleteRangeRequest.fromPartial({ key: Buffer.from('x') }) } }],
        }),
      },
    };
    expect(internal.InternalRaftRequest.decode(internal.InternalRaftRequest.encode(request).finish())).toEqual(request);
  });

  it('round-trips a raft message batch with entries and a snapshot', () => {
    const message = internal.Message.fromPartial({
      type: internal.MessageType.MsgApp,
      to: maxUint64,
      from: 1n,
      term: 9n,
      logTerm: 8n,
      index: 100n,
      commit: 99n,
      entries: [
        { type: internal.EntryType.EntryNormal, term: 9n, index: 101n, data: Buffer.from('put') },
        { type: internal.EntryType.EntryConfChangeV2, term: 9n, index: 102n, data: Buffer.alloc(0) },
      ],
      snapshot: { data: Buffer.alloc(0), metadata: { index: 50n, term: 4n, confState: { voters: [1n, maxUint64], autoLeave: true } } },
    });
    const batch = internal.MessageBatch.decode(internal.MessageBatch.encode({ messages: [message, message] }).finish());
    expect(batch.messages).toEqual([message, message]);
  });

  it('round-trips WAL bodies and member records', () => {
    const meta = { memberId: maxUint64, clusterId: 0x1234_5678_9abc_def0n };
    expect(internal.WalMetadata.decode(internal.WalMetadata.encode(meta).finish())).toEqual(meta);
    const snap = internal.WalSnapshot.fromPartial({ index: 10n, term: 2n, confState: { voters: [1n, 2n, 3n], learners: [4n] } });
    expect(internal.WalSnapshot.decode(internal.WalSnapshot.encode(snap).finish())).toEqual(snap);
    const member = internal.MemberRecord.fromPartial({
      id: maxUint64,
      peerUrls: ['http://127.0.0.1:2380'],
      isLearner: true,
      attributes: { name: 'infra1', clientUrls: ['http://127.0.0.1:2379'] },
    });
    expect(internal.MemberRecord.decode(internal.MemberRecord.encode(member).finish())).toEqual(member);
  });
});
