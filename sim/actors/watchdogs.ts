import type { WatchdogPolicy } from '../scenario/types.js';
import type { WatchdogActor, WatchdogWorld } from './watchdog-world.js';
import { ShellWatchdog } from './shell-watchdog.js';
import { Watchdog } from './watchdog.js';

/** One small constructor per policy. */
export const WATCHDOGS: Readonly<Record<WatchdogPolicy, (world: WatchdogWorld) => WatchdogActor>> = {
  'kill-if-stale': (world) => new Watchdog(world),
  'respawn-if-gone': (world) => new ShellWatchdog(world),
};
