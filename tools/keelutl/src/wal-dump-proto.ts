// Decodes a member's normal entries (keel.internal.InternalRaftRequest) for `wal dump`,
// printing them in gogo/protobuf's compact text style as etcd-dump-logs does (proto field
// names, every field followed by a space, the line's last space dropped), e.g.
//   header:<id:7587869180598460930 > put:<key:"foo" value:"bar" >
//   lease_grant:<TTL:60 ID:7587869180598460931 >
import { internal } from '@keel/proto';
import { defaultDecoders, type EntryDataDecoder, type EntryDecoders } from './wal-dump-decoders';
import { excerpt } from './wal-dump-format';

/** Values longer than this print as an excerpt (first 128 and last 32 bytes). */
const BYTES_SHOWN_MAX = 256;

export const internalRaftRequestDecoder: EntryDataDecoder = (data) => {
  const request = internal.InternalRaftRequest.decode(data);
  if (!request.request && !request.header) throw new Error('not an InternalRaftRequest');
  return formatFields(request as unknown as Record<string, unknown>);
};

/** The decoders `keelutl wal dump` uses for a member's WAL. */
export function memberDataDecoders(): EntryDecoders {
  return { ...defaultDecoders, normal: internalRaftRequestDecoder };
}

/** Protobuf text format of a decoded ts-proto message; default-valued fields are left out. */
export function formatFields(message: Record<string, unknown>): string {
  return fieldsText(message).trimEnd();
}

function fieldsText(message: Record<string, unknown>): string {
  let text = '';
  for (const [key, value] of Object.entries(message)) for (const field of formatField(protoFieldName(key), value)) text += `${field} `;
  return text;
}

function formatField(name: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (value instanceof Uint8Array) return value.length === 0 ? [] : [`${name}:${formatBytes(value)}`];
  if (Array.isArray(value)) return value.flatMap((item) => formatField(name, item));
  switch (typeof value) {
    case 'bigint':
      return value === 0n ? [] : [`${name}:${value}`];
    case 'number':
      return value === 0 ? [] : [`${name}:${value}`];
    case 'boolean':
      return value ? [`${name}:true`] : [];
    case 'string':
      return value === '' ? [] : [`${name}:${formatBytes(Buffer.from(value))}`];
    case 'object': {
      const record = value as Record<string, unknown>;
      // A oneof member { $case, value } prints as the chosen field.
      if (typeof record.$case === 'string') return formatField(protoFieldName(record.$case), record.value);
      return [`${name}:<${fieldsText(record)}>`];
    }
    default:
      return [`${name}:${String(value)}`];
  }
}

function formatBytes(bytes: Uint8Array): string {
  return bytes.length > BYTES_SHOWN_MAX ? excerpt(bytes, 128, 32, 'protoText') : excerpt(bytes, bytes.length, 0, 'protoText');
}

/**
 * The .proto name of a ts-proto field name: ts-proto camel-cases snake_case names
 * (range_end -> rangeEnd) and keeps names it cannot camel-case (ID, TTL, peerURLs,
 * remaining_TTL -> remainingTTL), so a run of capitals stays as it is.
 */
export function protoFieldName(name: string): string {
  if (!/[a-z]/.test(name)) return name;
  const capitalsAtEnd = /[A-Z]{2,}$/.exec(name);
  if (capitalsAtEnd) return `${protoFieldName(name.slice(0, capitalsAtEnd.index))}_${capitalsAtEnd[0]}`;
  return name.replace(/[A-Z]{2,}|[A-Z]/g, (capitals) => (capitals.length > 1 ? capitals : `_${capitals.toLowerCase()}`));
}
