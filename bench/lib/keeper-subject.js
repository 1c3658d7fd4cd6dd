// A subject process of the keeper-overhead bench: an owner that does nothing but hold a lease
// through one shipped host (`worker`: startWorkerKeeper, `sidecar`: startSidecarKeeper).
// Talks to the bench with JSON lines: stdout `{type:'ready', pid, sidecarPid, keeperTids}` once leading
// (keeperTids: the worker host's keeper thread); stdin `mark` →
// `{type:'marked', lost, at}`; stdin `stop` → graceful stop, `{type:'stopped', leadingMs, stats}`.
// The owner has no `renewed` listener (the common case: it then reads the keeper's validity from
// shared memory or a shared file, no message per renewal), so it counts renewals from the keeper's
// own stats: lifetime renewals ÷ time leading.
//   node bench/lib/keeper-subject.js <worker|sidecar> <storeUrl> <key> <ttlMs>
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_DIR } from './common.js';

const [host, storeUrl, key, ttlText] = process.argv.slice(2);
const ttlMs = Number(ttlText);
const say = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
const load = (path) => import(pathToFileURL(join(REPO_DIR, 'dist', 'src', 'hosts', path)).href);

// Reading stdin keeps this process alive: the hosts' own handles are unref'd (keepAlive: false).
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const options = { storeUrl, keeper: { key, ttlMs } };
const threadIds = () => readdirSync('/proc/self/task').map(Number);
let handle;
let keeperTids = [];
if (host === 'worker') {
  const { startWorkerKeeper } = await load('worker-host.js');
  const before = new Set(threadIds());
  handle = await startWorkerKeeper(options);
  // The thread the worker host started is the keeper's (the module is loaded, so no other starts here).
  keeperTids = threadIds().filter((tid) => !before.has(tid));
} else if (host === 'sidecar') handle = await (await load('sidecar-host.js')).startSidecarKeeper(options);
else throw new Error(`unknown host ${host}`);

let lost = 0;
handle.on('stopped-leading', () => (lost += 1));
if (!handle.isLeading()) await new Promise((resolve) => handle.once('started-leading', resolve));
const leadingSince = performance.now();
lost = 0;
say({ type: 'ready', pid: process.pid, sidecarPid: handle.sidecar?.pid ?? null, keeperTids });

const exitInfo = new Promise((resolve) => handle.once('exit', resolve));
for (let next = await lines.next(); !next.done; next = await lines.next()) {
  const line = next.value;
  if (line === 'mark') say({ type: 'marked', lost, at: performance.now() });
  else if (line === 'stop') {
    const before = { lost, leadingMs: performance.now() - leadingSince };
    await handle.stop();
    const { stats, reason } = await exitInfo;
    say({ type: 'stopped', ...before, reason, stats: stats ?? null });
    break;
  }
}
process.exit(0);
