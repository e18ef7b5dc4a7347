// The simulator, transcript interpreter and benchmark live with the library they test
// (libs/raft/src/testing) but are not part of @keel/raft's public API, so this tool reaches
// them by path. This is the only file that does.
// eslint-disable-next-line @nx/enforce-module-boundaries -- test tooling outside the public API, see above
export * from '../../../libs/raft/src/testing';
