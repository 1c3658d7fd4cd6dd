// A stand-in for the real system's orchestrator, for verify-real (real time, real processes).
// Its session starts up for a random STARTUP (from process start until it registers and takes
// the lease; busy meanwhile), then has no work: after a random IDLE its host idles the session
// and the process exits cleanly (optionally releasing the lease first, ON_IDLE=release).
// Unsupervised it is the incident's code: acquire, then a setInterval heartbeat in the session.
// Run by `keeper run` (HEARTBEAT_LAB_TOKEN set) it neither acquires nor renews: the keeper does.
//
// Environment (milliseconds): LEASE_FILE, TTL_MS, HEARTBEAT_MS, STARTUP_MIN_MS, STARTUP_MAX_MS,
// IDLE_MIN_MS, IDLE_MAX_MS, ON_IDLE (none | release), LOG, LEASE_KEY (default orchestrator/leader).
import { appendFileSync } from 'node:fs';
import { FileLeaseStore } from '../../dist/src/store/file-store.js';

const env = (name) => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`orchestrator.mjs: ${name} is not set`);
  return value;
};
const ms = (name) => Number(env(name));
const uniform = (min, max) => min + Math.random() * (max - min);
const log = (event, fields = {}) =>
  appendFileSync(env('LOG'), `${Date.now()} ${event} pid=${process.pid} ${Object.entries(fields).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);

const key = process.env.LEASE_KEY || 'orchestrator/leader';
const ttlMs = ms('TTL_MS');
const heartbeatMs = ms('HEARTBEAT_MS');
const supervisedToken = process.env.HEARTBEAT_LAB_TOKEN;
const holder = `orch-${process.pid}`;
const store = supervisedToken === undefined ? new FileLeaseStore(env('LEASE_FILE')) : undefined;
let lease;

const idleExit = async () => {
  if (lease !== undefined && process.env.ON_IDLE === 'release') await store.release(lease).catch(() => undefined);
  log('idle-exit', { supervised: supervisedToken !== undefined });
  process.exit(0);
};

const ready = () => setTimeout(() => void idleExit(), uniform(ms('IDLE_MIN_MS'), ms('IDLE_MAX_MS')));

const acquire = async () => {
  try {
    const result = await store.acquire({ key, holder, ttlMs });
    if (result.ok) {
      lease = result.lease;
      log('acquired', { token: lease.token });
      // The incident's heartbeat: a setInterval in the session, which dies with it.
      setInterval(() => void store.renew({ ...lease, ttlMs }).catch(() => undefined), heartbeatMs);
      ready();
      return;
    }
  } catch {
    // store trouble: try again at the next interval
  }
  setTimeout(() => void acquire(), heartbeatMs);
};

// Start-up is measured from process start, so Node's own boot time counts in it.
const startupMs = Math.max(0, uniform(ms('STARTUP_MIN_MS'), ms('STARTUP_MAX_MS')) - performance.now());
process.on('SIGTERM', () => process.exit(143));
setTimeout(() => {
  if (supervisedToken === undefined) void acquire();
  else {
    log('ready', { token: supervisedToken });
    ready();
  }
}, startupMs);
