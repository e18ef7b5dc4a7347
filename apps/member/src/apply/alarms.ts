// Active alarms (NOSPACE, CORRUPT) per member, replicated through raft and persisted in the
// alarms key space so they survive restarts. While any NOSPACE alarm is active, the apply
// chain refuses writes that could grow the database.
import { etcdserverpb } from '@keel/proto';

export interface AlarmEntry {
  memberId: bigint;
  alarm: etcdserverpb.AlarmType;
}

export function alarmDbKey(entry: AlarmEntry): Buffer {
  const key = Buffer.alloc(9);
  key.writeBigUInt64BE(BigInt.asUintN(64, entry.memberId));
  key[8] = entry.alarm;
  return key;
}

export function alarmFromDbKey(key: Uint8Array): AlarmEntry {
  const buffer = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { memberId: buffer.readBigUInt64BE(0), alarm: buffer[8] as etcdserverpb.AlarmType };
}

export class AlarmSet {
  private readonly active = new Map<string, AlarmEntry>();

  private static id(entry: AlarmEntry): string {
    return `${entry.memberId}:${entry.alarm}`;
  }

  /** Returns false when it was already active. */
  activate(entry: AlarmEntry): boolean {
    const id = AlarmSet.id(entry);
    if (this.active.has(id)) return false;
    this.active.set(id, { ...entry });
    return true;
  }

  /** Returns false when it was not active. */
  deactivate(entry: AlarmEntry): boolean {
    return this.active.delete(AlarmSet.id(entry));
  }

  has(alarm: etcdserverpb.AlarmType): boolean {
    for (const entry of this.active.values()) if (entry.alarm === alarm) return true;
    return false;
  }

  list(alarm: etcdserverpb.AlarmType = etcdserverpb.AlarmType.NONE): AlarmEntry[] {
    const all = [...this.active.values()];
    return alarm === etcdserverpb.AlarmType.NONE ? all : all.filter((e) => e.alarm === alarm);
  }
}
