export { HpackDecoder, type HeaderList } from './hpack/decoder';
export { encodeHeaderBlock } from './hpack/encoder';
export { HpackError, huffmanDecode } from './hpack/huffman';
export * from './frames';
export { encodeGrpcFrame, grpcFrameHeaderBytes } from './grpc-frame';
export { HpackEncoder, type IndexPolicy } from './hpack/indexing-encoder';
