// The wake-up floor of a renewal with a per-request timeout, in plain Node: a thread ticks every
// `periodMs` (the keeper's renew timer) and, in the variants, arms a `timeoutMs` timeout at each
// tick that is cancelled long before it is due (the keeper's request timeout, cleared when the
// reply comes). Prints one JSON line: the main thread's voluntary context switches per tick.
//   node bench/lib/timer-floor.js <variant> <periodMs> <timeoutMs> <ticks>
// Variants (what each costs, per tick, on Node 20 / Linux):
//   timer                 the tick alone: 1
//   cleared-same-turn     + setTimeout(timeoutMs) cleared in the tick's own callback: 1. Node keeps
//                         one libuv timer per thread and re-arms it only when timers run; clearing
//                         during the timers phase is seen by that re-arm.
//   cleared-next-turn     + the timeout cleared one loop turn later (setImmediate), as any reply
//                         is: 2. The libuv timer stays armed at the timeout's due time (Node never
//                         moves it later outside the timers phase), so the loop wakes then and
//                         finds nothing to run.
//   reply                 + a UDP datagram to itself (the "request"), the timeout cleared when it
//                         comes back: 2. The reply is already there when the loop next polls,
//                         so it costs nothing, and the timeout's expiry still does (a keeper's
//                         reply comes from another process: one more wake-up, 3 in all).
//   wait-async            + Atomics.waitAsync(…, timeoutMs) ended at once by Atomics.notify: 2.
//                         V8 posts the timeout as a delayed task on its own libuv timer, which is
//                         not stopped when the wait ends.
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

const [variant, periodText, timeoutText, ticksText] = process.argv.slice(2);
const periodMs = Number(periodText);
const timeoutMs = Number(timeoutText);
const ticks = Number(ticksText);
const never = () => {
  throw new Error('timer-floor: a cancelled timeout fired');
};
const wakeups = () => Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(readFileSync(`/proc/self/task/${process.pid}/status`, 'utf8'))?.[1]);
const cell = new Int32Array(new SharedArrayBuffer(4));
const socket = variant === 'reply' ? createSocket('udp4') : undefined;
let pending;
if (socket !== undefined) {
  socket.on('message', () => clearTimeout(pending));
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
}
const ping = Buffer.from('renew');

const work = {
  timer: () => undefined,
  'cleared-same-turn': () => clearTimeout(setTimeout(never, timeoutMs)),
  'cleared-next-turn': () => {
    const timeout = setTimeout(never, timeoutMs);
    setImmediate(() => clearTimeout(timeout));
  },
  reply: () => {
    pending = setTimeout(never, timeoutMs);
    socket.send(ping, socket.address().port, '127.0.0.1');
  },
  'wait-async': () => {
    void Atomics.waitAsync(cell, 0, 0, timeoutMs).value;
    Atomics.notify(cell, 0);
  },
}[variant];
if (work === undefined) throw new Error(`timer-floor: unknown variant ${variant}`);

// A few ticks first, so start-up (module loading, the first GCs) is not counted.
const WARM_UP = 5;
let done = 0;
let startWakeups = 0;
const tick = () => {
  done += 1;
  if (done === WARM_UP) startWakeups = wakeups();
  if (done === WARM_UP + ticks) {
    const counted = wakeups() - startWakeups;
    process.stdout.write(`${JSON.stringify({ variant, periodMs, timeoutMs, ticks, wakeups: counted, wakeupsPerTick: counted / ticks })}\n`);
    socket?.close();
    return;
  }
  work();
  setTimeout(tick, periodMs);
};
setTimeout(tick, periodMs);
