// Keel-internal messages (package keel.internal), gathered into one namespace.
export * from './generated/keel/internal/raft';
export * from './generated/keel/internal/raft_request';
export * from './generated/keel/internal/wal';
export * from './generated/keel/internal/membership';
