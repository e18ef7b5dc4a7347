// Usage: node wal-hops.cjs [dir] [iterations]
// Sequential 360-byte appends to a preallocated, zero-filled file, made durable three ways:
// two thread-pool operations (write, then datasync: what libs/wal does today), one thread-pool
// operation (an O_DSYNC write), and synchronous calls on the main thread. Prints per-append
// latency, the cost a single client's write pays for the WAL alone.
const fs = require('fs');
const path = require('path');
const dir = process.argv[2] ?? '/tmp';
const iterations = Number(process.argv[3] ?? 1000);
const file = path.join(dir, `wal-hops-${process.pid}.tmp`);
const record = Buffer.alloc(360, 7);

function prepare() {
  fs.writeFileSync(file, Buffer.alloc(iterations * 360 + 4096));
  const fd = fs.openSync(file, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}
function summary(name, ms) {
  ms.sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const at = (q) => ms[Math.floor(q * (ms.length - 1))].toFixed(3);
  console.log(`${name.padEnd(34)} median ${at(0.5)} ms  p99 ${at(0.99)} ms  mean ${mean.toFixed(3)} ms`);
}
async function twoHops() {
  const fh = await fs.promises.open(file, 'r+');
  const ms = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fh.write(record, 0, record.length, i * 360);
    await fh.datasync();
    ms.push(performance.now() - t);
  }
  await fh.close();
  return ms;
}
async function oneHop() {
  const fh = await fs.promises.open(file, fs.constants.O_RDWR | fs.constants.O_DSYNC);
  const ms = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    await fh.write(record, 0, record.length, i * 360);
    ms.push(performance.now() - t);
  }
  await fh.close();
  return ms;
}
async function onMainThread() {
  const fd = fs.openSync(file, 'r+');
  const ms = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    fs.writeSync(fd, record, 0, record.length, i * 360);
    fs.fdatasyncSync(fd);
    ms.push(performance.now() - t);
    await new Promise((r) => setImmediate(r)); // a request's worth of event-loop turn
  }
  fs.closeSync(fd);
  return ms;
}
(async () => {
  for (let round = 0; round < 2; round++) {
    for (const [name, run] of [['write + datasync (2 pool hops)', twoHops], ['O_DSYNC write (1 pool hop)', oneHop], ['writeSync + fdatasyncSync (0 hops)', onMainThread]]) {
      prepare();
      summary(name, await run());
    }
  }
  fs.unlinkSync(file);
})();
