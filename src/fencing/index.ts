/**
 * Guarded writes: run an action only while leading ({@link runAsLeader}) and make every write
 * carry the fencing token, so a store refuses a deposed leader's late write.
 *
 * One {@link Fence} interface (`write(id, token, data)`, `read(id)`) over three stores, each in its
 * own module importing its driver's types only: `postgresFence(pool, table)` (after
 * `ensureFencedTable`), `redisFence(client)`, `etcdFence(client)`.
 */
export { runAsLeader, type Leadership, type RunAsLeaderOptions } from './run-as-leader.js';
export { checkToken, type Fence, type FencedValue, type FencedWriteResult } from './fence.js';
export { ensureFencedTable, postgresFence, type Queryable } from './postgres-fence.js';
export { redisFence, type RedisFenceOptions } from './redis-fence.js';
export { etcdFence, type EtcdFenceOptions } from './etcd-fence.js';
