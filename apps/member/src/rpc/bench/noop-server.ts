/**
 * Throughput probe: a GrpcServer with a no-op unary handler on a shared port.
 * Usage (see README-foundation.md): prints "listening <port>" and runs until killed.
 */
import { GrpcServer } from '../server';
import { listenShared } from '../listener';
import { TestService } from '../test-service';

async function main(): Promise<void> {
  let calls = 0;
  const server = new GrpcServer({ maxReceiveMessageBytes: 2 * 1024 * 1024, onCallEnd: () => calls++ });
  const reply = { n: 1 };
  server.addService(TestService, { echo: () => reply });
  const listener = await listenShared({ url: `http://127.0.0.1:${process.argv[2] ?? '0'}`, grpc: server, http1: (_q, s) => s.end() });
  process.stdout.write(`listening ${listener.port}\n`);
  // CPU per call is what matters on a shared machine: wall-clock rates swing with other load.
  let [lastCalls, lastCpu] = [0, process.cpuUsage()];
  setInterval(() => {
    const cpu = process.cpuUsage(lastCpu);
    const count = calls - lastCalls;
    if (count > 0) {
      const usPerCall = (cpu.user + cpu.system) / count;
      process.stdout.write(`${count} calls, ${usPerCall.toFixed(1)} µs CPU per call (${Math.round(1e6 / usPerCall)} calls per CPU-second)\n`);
    }
    [lastCalls, lastCpu] = [calls, process.cpuUsage()];
  }, 5000).unref();
}

// Exit through process.exit so `node --cpu-prof` writes its profile.
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

void main();
