// Test-only tooling for the Raft library: the seeded cluster simulator with its safety
// checkers, the transcript-test interpreter and the throughput benchmark driver. Not part of
// the library's public API (index.ts does not export it); tools import it by path.
export { Prng, hash53 } from './prng';
export { SafetyChecker, SAFETY_PROPERTIES, type SafetyProperty, type Violation, type LogView } from './sim/checkers';
export { SimNetwork, HEALTHY_NETWORK, type NetworkFaults } from './sim/network';
export { runSimulation, Simulation, type SimOptions, type SimResult, type SimViolation, type SimStats } from './sim/simulation';
export { runSeeds, describeFailure, type SeedsSummary, type SeedsOptions } from './sim/seeds';
export { runTranscriptFile, executeTranscript, describeMismatch, type TranscriptResult, type BlockMismatch } from './transcript/runner';
export { parseTranscript, serializeTranscript } from './transcript/parser';
export { runThroughputBench, formatBenchResult, type BenchOptions, type BenchResult, type BenchClocks } from './bench';
