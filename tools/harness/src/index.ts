export { freePort, freePorts, waitForPort } from './ports';
export { makeTempDir, removeTempDir, removeTempDirs } from './tempdir';
export { binPath, repoRoot, startProcess, killAll, runCommand, type ManagedProcess } from './processes';
export { startCluster, type Cluster, type ClusterMember, type ClusterOptions } from './cluster';
export { startFaultProxy, dialerPid, type FaultProxy, type FaultProxyOptions, type ProxyMode } from './proxy';
