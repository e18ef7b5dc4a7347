// Public surface of @keel/bbolt: write a compact bbolt database page by page from sorted
// buckets, read one back, and check its structure. layout.ts documents the file format.
export { BoltWriter, type BucketWriter, type WriterOptions, type WriteSummary } from './writer';
export { BoltReader, type BucketRef, type Entry, bucketRefOf } from './reader';
export { checkFile, type CheckReport } from './check';
export { DEFAULT_PAGE_SIZE, MAX_KEY_BYTES, MAX_VALUE_BYTES, fnv1a64, type Meta } from './layout';
// For tests and tools: the real bbolt (Go) as referee.
export { buildGoCheck, goCheckAvailable, runGoCheck, type GoBucketDump, type GoCheckReport } from './go-check';
