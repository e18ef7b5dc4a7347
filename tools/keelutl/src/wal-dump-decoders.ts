// Entry-data decoders for `keelutl wal dump`. The WAL treats entry data as opaque bytes;
// what the bytes mean belongs to other layers, so decoding is pluggable: a decoder turns
// one entry's data into the text printed in the `data` column.
import { ConfChangeTransition, ConfChangeType, decodeConfChange, decodeConfChangeV2 } from '@keel/raft';
import { excerpt, formatId } from './wal-dump-format';

export type EntryDataDecoder = (data: Uint8Array) => string;

export interface EntryDecoders {
  /** EntryNormal data (an InternalRaftRequest in a member's WAL). */
  normal: EntryDataDecoder;
  /** EntryConfChange data. */
  confChange: EntryDataDecoder;
  /** EntryConfChangeV2 data. */
  confChangeV2: EntryDataDecoder;
}

/** Fallback for data nobody can decode: a short, escaped excerpt as etcd-dump-logs prints values. */
export const rawDataDecoder: EntryDataDecoder = (data) => excerpt(data, 64, 64);

const CHANGE_NAMES: Record<ConfChangeType, string> = {
  [ConfChangeType.AddNode]: 'ConfChangeAddNode',
  [ConfChangeType.RemoveNode]: 'ConfChangeRemoveNode',
  [ConfChangeType.UpdateNode]: 'ConfChangeUpdateNode',
  [ConfChangeType.AddLearnerNode]: 'ConfChangeAddLearnerNode',
};

/** Prints a conf change like etcd-dump-logs: `method=ConfChangeAddNode id=8e9e05c52164694d`. */
export const confChangeDecoder: EntryDataDecoder = (data) => {
  const cc = decodeConfChange(data);
  return `method=${CHANGE_NAMES[cc.type]} id=${formatId(cc.nodeId)}`;
};

export const confChangeV2Decoder: EntryDataDecoder = (data) => {
  const cc = decodeConfChangeV2(data);
  const changes = cc.changes.map((c) => `${CHANGE_NAMES[c.type]} id=${formatId(c.nodeId)}`);
  return `transition=${ConfChangeTransition[cc.transition]} changes=[${changes.join(', ')}]`;
};

export const defaultDecoders: EntryDecoders = {
  normal: rawDataDecoder,
  confChange: confChangeDecoder,
  confChangeV2: confChangeV2Decoder,
};

/** Runs a decoder; data it cannot decode prints as `???` followed by the raw excerpt. */
export function decodeSafely(decoder: EntryDataDecoder, data: Uint8Array): string {
  try {
    return decoder(data);
  } catch {
    return `??? ${rawDataDecoder(data)}`;
  }
}
