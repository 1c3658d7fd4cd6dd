/**
 * Guarded writes: run an action only while leading ({@link runAsLeader}) and make every write
 * carry the fencing token, so a store refuses a deposed leader's late write.
 *
 * The store helpers are in their own modules, each importing its driver's types only:
 * `postgres-fence.js` (`ensureFencedTable`, `fencedUpsert`, `fencedRead`), `redis-fence.js`
 * (`fencedSet`, `fencedGet`), `etcd-fence.js` (`fencedPut`, `fencedGetEtcd`).
 */
export { runAsLeader, type Leadership, type RunAsLeaderOptions } from './run-as-leader.js';
export { ensureFencedTable, fencedRead, fencedUpsert, type FencedRow, type FencedUpsert, type FencedWriteResult, type Queryable } from './postgres-fence.js';
export { fencedGet, fencedSet, type FencedSet, type FencedValue } from './redis-fence.js';
export { fencedGetEtcd, fencedPut, type FencedEntry, type FencedPut } from './etcd-fence.js';
