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

export const Setting = { HeaderTableSize: 1, EnablePush: 2, MaxConcurrentStreams: 3, InitialWindowSize: 4, MaxFrameSize: 5, MaxHeaderListSize: 6 } as const;

/** RST_STREAM and GOAWAY error codes (RFC 9113 §7). */
export const ErrorCode = {
  NoError: 0x0,
  ProtocolError: 0x1,
  InternalError: 0x2,
  FlowControlError: 0x3,
  SettingsTimeout: 0x4,
  StreamClosed: 0x5,
  FrameSizeError: 0x6,
  RefusedStream: 0x7,
  Cancel: 0x8,
  CompressionError: 0x9,
  ConnectError: 0xa,
  EnhanceYourCalm: 0xb,
  InadequateSecurity: 0xc,
  Http11Required: 0xd,
} as const;

/** Flow-control windows may not exceed 2^31 - 1 (RFC 9113 §6.9.1). */
export const maxWindowBytes = 2 ** 31 - 1;
/** Bounds of SETTINGS_MAX_FRAME_SIZE (RFC 9113 §6.5.2). */
export const minMaxFrameBytes = 16384;
export const maxMaxFrameBytes = 2 ** 24 - 1;

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
