// Decodes a member's normal entries (keel.internal.InternalRaftRequest) for `wal dump`,
// printing them in protobuf text style as etcd-dump-logs does, e.g.
//   header:<id:7587869180598460930> put:<key:"foo" value:"bar">
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
  const parts: string[] = [];
  for (const [key, value] of Object.entries(message)) parts.push(...formatField(snakeCase(key), value));
  return parts.join(' ');
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
      if (typeof record.$case === 'string') return formatField(snakeCase(record.$case), record.value);
      return [`${name}:<${formatFields(record)}>`];
    }
    default:
      return [`${name}:${String(value)}`];
  }
}

function formatBytes(bytes: Uint8Array): string {
  return bytes.length > BYTES_SHOWN_MAX ? excerpt(bytes, 128, 32) : excerpt(bytes, bytes.length, 0);
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
