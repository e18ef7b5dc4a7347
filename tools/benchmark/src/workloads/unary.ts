import type { UnaryWorkloadOptions } from '../options';
import { KeyGenerator, randomBytes } from '../keys';
import { encodePut, encodeRange, encodeTxnPut } from '../client/wire';

export interface UnaryRequest {
  path: string;
  body: Uint8Array;
}

/** Returns a function producing the next request of a put, range or txn-put workload. */
export function unaryRequestSource(options: UnaryWorkloadOptions, startIndex: number): () => UnaryRequest {
  const text = new TextEncoder();
  switch (options.command) {
    case 'put': {
      const keys = new KeyGenerator(options.keySize, options.keySpaceSize, options.sequentialKeys, startIndex);
      const value = randomBytes(options.valSize);
      return () => ({ path: '/etcdserverpb.KV/Put', body: encodePut(keys.nextKey(), value) });
    }
    case 'range': {
      // The request never changes, so it is encoded once.
      const body = encodeRange(text.encode(options.rangeKey), text.encode(options.rangeEnd), options.consistency === 's');
      return () => ({ path: '/etcdserverpb.KV/Range', body });
    }
    case 'txn-put': {
      const keys = new KeyGenerator(options.keySize, options.keySpaceSize, options.sequentialKeys, startIndex);
      const value = randomBytes(options.valSize);
      return () => ({ path: '/etcdserverpb.KV/Txn', body: encodeTxnPut(keys.nextKey(), value) });
    }
  }
}
