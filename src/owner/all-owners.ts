import { ALIVE, type OwnerLiveness, type OwnerStatus } from './owner-liveness.js';

/**
 * Combines owners: alive only while every one is alive. `check()` reports the first dead one
 * (in argument order) and stays synchronous when every part is; `watch()` fans in the parts
 * that push and calls `onDead` at most once.
 */
export function allOwners(...owners: OwnerLiveness[]): OwnerLiveness {
  const parts = [...owners];
  return {
    check(): OwnerStatus | Promise<OwnerStatus> {
      const statuses = parts.map((owner) => owner.check());
      if (statuses.every((status): status is OwnerStatus => !(status instanceof Promise))) return firstDead(statuses);
      return Promise.all(statuses).then(firstDead);
    },
    watch(onDead: (reason: string) => void): () => void {
      let done = false;
      const unwatchAll = (): void => {
        done = true;
        for (const unwatch of unwatches) unwatch();
      };
      const unwatches: Array<() => void> = [];
      for (const owner of parts) {
        const unwatch = owner.watch?.((reason) => {
          if (done) return;
          unwatchAll();
          onDead(reason);
        });
        if (unwatch !== undefined) unwatches.push(unwatch);
      }
      if (done) unwatchAll(); // a part reported death while we were still subscribing
      return unwatchAll;
    },
  };
}

function firstDead(statuses: readonly OwnerStatus[]): OwnerStatus {
  return statuses.find((status) => !status.alive) ?? ALIVE;
}
