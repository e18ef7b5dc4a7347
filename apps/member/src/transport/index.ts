export { PeerTransport } from './transport';
export {
  DEFAULT_LIMITS,
  type PeerTransportOptions,
  type PeerTransportLimits,
  type PeerStats,
  type UnreachableListener,
  type UnreachableReason,
} from './types';
