/** gRPC length-prefixed message framing: 1 byte compressed flag, 4 bytes big-endian length. */
export const grpcFrameHeaderBytes = 5;

/** Prefixes `message` with an uncompressed gRPC frame header. */
export function encodeGrpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(grpcFrameHeaderBytes + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, grpcFrameHeaderBytes);
  return frame;
}
