// The command each `keeper run` contender of `npm run chaos-real` runs while it leads: fenced writes
// of a counter to one register on the store's own server, each logged (send and answer instants on
// the machine's monotonic clock, token, value, outcome) to the shared history file.
// Usage (keeper run passes HEARTBEAT_LAB_TOKEN / HEARTBEAT_LAB_HOLDER): writer.js <kind> <url> <history>
import { appendFileSync } from 'node:fs';

const [kind, url, history] = process.argv.slice(2);
const token = Number(process.env.HEARTBEAT_LAB_TOKEN);
const holder = process.env.HEARTBEAT_LAB_HOLDER;
const WRITE_EVERY_MS = 25;
const REGISTER = 'chaos-register';

const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;
const log = (event) => appendFileSync(history, `${JSON.stringify({ ...event, pid: process.pid, holder, token })}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

log({ ev: 'start', t: now() });
process.on('SIGTERM', () => {
  log({ ev: 'stop', t: now(), signal: 'SIGTERM' });
  process.exit(0);
});

async function connect() {
  if (kind === 'redis') {
    const { Redis } = await import('ioredis');
    const { redisFence } = await import('../../dist/src/fencing/redis-fence.js');
    const client = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: 500, connectTimeout: 500 });
    client.on('error', () => undefined);
    const fence = redisFence(client);
    return (value) => fence.write(REGISTER, token, value);
  }
  if (kind === 'postgres') {
    const pg = await import('pg');
    const { ensureFencedTable, postgresFence } = await import('../../dist/src/fencing/postgres-fence.js');
    const pool = new pg.default.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 500, query_timeout: 1000, options: '-c synchronous_commit=on' });
    pool.on('error', () => undefined);
    const fence = postgresFence(pool, 'chaos_fenced');
    let ready;
    return async (value) => {
      ready ??= ensureFencedTable(pool, 'chaos_fenced').catch((error) => {
        ready = undefined;
        throw error;
      });
      await ready;
      return fence.write(REGISTER, token, value);
    };
  }
  if (kind === 'etcd') {
    const { Etcd3 } = await import('etcd3');
    const { etcdFence } = await import('../../dist/src/fencing/etcd-fence.js');
    const host = url.replace(/^etcd:\/\//, 'http://');
    const client = new Etcd3({ hosts: [host], defaultCallOptions: () => ({ deadline: new Date(Date.now() + 1000) }) });
    const fence = etcdFence(client);
    return (value) => fence.write(REGISTER, token, value);
  }
  throw new Error(`unknown store kind ${kind}`);
}

const write = await connect();
for (let value = 1; ; value++) {
  const t0 = now();
  try {
    const result = await write(value);
    log({ ev: 'write', t0, t1: now(), value, applied: result.applied, current: result.currentToken });
  } catch (error) {
    log({ ev: 'write-error', t0, t1: now(), value, error: String(error?.code ?? error?.name ?? error).slice(0, 60) });
  }
  await sleep(WRITE_EVERY_MS);
}
