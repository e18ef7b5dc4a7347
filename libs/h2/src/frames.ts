/** HTTP/2 frame layout (RFC 9113 §4.1) and the constants the client uses. */
export const FrameType = {
  Data: 0,
  Headers: 1,
  Priority: 2,
  RstStream: 3,
  Settings: 4,
  PushPromise: 5,
  Ping: 6,
  GoAway: 7,
  WindowUpdate: 8,
  Continuation: 9,
} as const;

export const Flag = { EndStream: 0x1, Ack: 0x1, EndHeaders: 0x4, Padded: 0x8, Priority: 0x20 } as const;

export const Setting = { HeaderTableSize: 1, EnablePush: 2, MaxConcurrentStreams: 3, InitialWindowSize: 4, MaxFrameSize: 5 } as const;

export const frameHeaderBytes = 9;
export const defaultWindowBytes = 65535;
export const connectionPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const header = Buffer.allocUnsafe(frameHeaderBytes);
  header.writeUIntBE(length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return header;
}

export function settingsFrame(settings: [number, number][]): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return Buffer.concat([frameHeader(payload.length, FrameType.Settings, 0, 0), payload]);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const frame = frameHeader(4, FrameType.WindowUpdate, 0, streamId);
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment);
  return Buffer.concat([frame, payload]);
}

/** The payload of a frame without its padding (PADDED flag) and priority fields. */
export function unpaddedPayload(type: number, flags: number, payload: Buffer): Buffer {
  let start = 0;
  let end = payload.length;
  if (flags & Flag.Padded) {
    const padding = payload[0]!;
    start = 1;
    end -= padding;
  }
  if (type === FrameType.Headers && flags & Flag.Priority) start += 5;
  if (end < start) throw new Error('HTTP/2 frame padding exceeds its payload');
  return payload.subarray(start, end);
}
