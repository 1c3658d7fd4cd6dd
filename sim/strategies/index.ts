import { loopVariant, type StrategySpec } from '../scenario/types.js';
import { baselineStrategy } from './baseline.js';
import { keepAwakeStrategy } from './keep-awake.js';
import { sidecarStrategy, workerStrategy } from './keeper.js';
import type { Strategy } from './strategy.js';
import { naiveWorkerStrategy } from './naive-worker.js';
import { supervisorStrategy } from './supervisor.js';
import { watchdogLoopStrategy } from './watchdog-loop.js';

/** A fresh strategy instance for one run. */
export function createStrategy(spec: StrategySpec): Strategy {
  switch (spec.kind) {
    case 'baseline':
      return baselineStrategy();
    case 'worker':
      return workerStrategy(spec);
    case 'sidecar':
      return sidecarStrategy(spec);
    case 'keep-awake':
      return keepAwakeStrategy();
    case 'watchdog-loop':
      return watchdogLoopStrategy(loopVariant(spec), spec.name);
    case 'naive-worker':
      return naiveWorkerStrategy();
    case 'supervisor':
      return supervisorStrategy(spec);
  }
}
