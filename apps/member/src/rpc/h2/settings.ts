/**
 * SETTINGS (RFC 9113 §6.5): what the client asked of us, validated, and what we announce.
 */
import { ErrorCode, Setting, defaultWindowBytes, maxMaxFrameBytes, maxWindowBytes, minMaxFrameBytes, settingsFrame } from '@keel/h2';
import { ConnectionError } from './errors';

/** The client's settings that govern what we send. */
export interface PeerSettings {
  headerTableBytes: number;
  initialWindowBytes: number;
  maxFrameBytes: number;
}

export function defaultPeerSettings(): PeerSettings {
  return { headerTableBytes: 4096, initialWindowBytes: defaultWindowBytes, maxFrameBytes: minMaxFrameBytes };
}

/** One change carried by a SETTINGS frame, applied in order. */
export type SettingChange =
  | { readonly kind: 'headerTable'; readonly bytes: number }
  | { readonly kind: 'initialWindow'; readonly bytes: number }
  | { readonly kind: 'maxFrame'; readonly bytes: number };

/** Parses and validates a non-ACK SETTINGS payload. Unknown identifiers are ignored, as required. */
export function parseSettings(payload: Buffer): SettingChange[] {
  if (payload.length % 6 !== 0) throw new ConnectionError(ErrorCode.FrameSizeError, 'SETTINGS payload is not a multiple of 6 bytes');
  const changes: SettingChange[] = [];
  for (let offset = 0; offset < payload.length; offset += 6) {
    const id = payload.readUInt16BE(offset);
    const value = payload.readUInt32BE(offset + 2);
    switch (id) {
      case Setting.HeaderTableSize:
        changes.push({ kind: 'headerTable', bytes: value });
        break;
      case Setting.EnablePush:
        if (value > 1) throw new ConnectionError(ErrorCode.ProtocolError, `SETTINGS_ENABLE_PUSH ${value}`);
        break;
      case Setting.InitialWindowSize:
        if (value > maxWindowBytes) throw new ConnectionError(ErrorCode.FlowControlError, `SETTINGS_INITIAL_WINDOW_SIZE ${value}`);
        changes.push({ kind: 'initialWindow', bytes: value });
        break;
      case Setting.MaxFrameSize:
        if (value < minMaxFrameBytes || value > maxMaxFrameBytes) {
          throw new ConnectionError(ErrorCode.ProtocolError, `SETTINGS_MAX_FRAME_SIZE ${value}`);
        }
        changes.push({ kind: 'maxFrame', bytes: value });
        break;
      default:
        break; // MAX_CONCURRENT_STREAMS (limits pushes, which we never make), MAX_HEADER_LIST_SIZE, unknown ids
    }
  }
  return changes;
}

/** What the server announces and enforces on what it receives. */
export interface LocalSettings {
  /** Streams the client may have open at once; more are refused (REFUSED_STREAM). */
  readonly maxConcurrentStreams: number;
  /** Receive window each new stream starts with. */
  readonly streamWindowBytes: number;
  /** Receive window of the whole connection (raised from 65,535 with a WINDOW_UPDATE). */
  readonly connectionWindowBytes: number;
  /** Largest frame payload accepted (we announce nothing, so the protocol default). */
  readonly maxFrameBytes: number;
  /** Largest request header block (all HEADERS + CONTINUATION payload bytes) accepted. */
  readonly maxHeaderBlockBytes: number;
}

/** The server's SETTINGS frame: only the values that differ from the protocol defaults. */
export function localSettingsFrame(local: LocalSettings): Buffer {
  const settings: [number, number][] = [];
  if (local.maxConcurrentStreams < 2 ** 32 - 1) settings.push([Setting.MaxConcurrentStreams, local.maxConcurrentStreams]);
  if (local.streamWindowBytes !== defaultWindowBytes) settings.push([Setting.InitialWindowSize, local.streamWindowBytes]);
  settings.push([Setting.MaxHeaderListSize, local.maxHeaderBlockBytes]);
  return settingsFrame(settings);
}
