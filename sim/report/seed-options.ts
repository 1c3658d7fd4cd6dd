/**
 * The seed's three proposed fixes, numbered as the seed numbers them, and which strategy kinds
 * of the simulator are variants of which option. `baseline` is today's code (no fix).
 */
import type { StrategySpec } from '../scenario/types.js';

export interface SeedOption {
  /** 0 is today's code; 1-3 are the seed's options. */
  readonly number: 0 | 1 | 2 | 3;
  readonly title: string;
  /** Strategy kinds that implement this option (`spec.kind`). */
  readonly kinds: readonly string[];
}

export const SEED_OPTIONS: readonly SeedOption[] = [
  { number: 0, title: 'today: heartbeat in the session', kinds: ['baseline'] },
  { number: 1, title: 'background worker / keeper', kinds: ['sidecar', 'worker', 'naive-worker', 'supervisor'] },
  { number: 2, title: 'shell loop in the watchdog', kinds: ['watchdog-loop'] },
  { number: 3, title: "keep the main loop from idling", kinds: ['keep-awake'] },
];

/** The option a strategy implements; undefined for a kind none of the options lists. */
export function optionOf(spec: StrategySpec): SeedOption | undefined {
  return SEED_OPTIONS.find((o) => o.kinds.includes(spec.kind));
}

/** `option 1 (background worker / keeper)`, or `today's code` for the baseline. */
export function optionLabel(option: SeedOption): string {
  return option.number === 0 ? "today's code" : `option ${option.number} (${option.title})`;
}

/** A configuration we can ship, and the one to use where its advantage does not matter. */
export interface ShipChoice {
  /** The strategy of the runs, by name. */
  readonly strategy: string;
  readonly what: string;
  readonly alternative: { readonly strategy: string; readonly what: string; readonly when: string };
}

/**
 * What can ship, in order of preference; the report ships the first one the runs support under
 * every model (see `ship-choice.ts`). Changing the decision is changing these lines.
 */
export const SHIP_CANDIDATES: readonly ShipChoice[] = [
  {
    strategy: 'supervisor',
    what: 'the shipped `Supervisor` (`src/supervisor/`, `keeper run --restart`): the keeper holds the lease and restarts the session in place',
    alternative: { strategy: 'sidecar', what: 'the same keeper in a sidecar process bound to its owner, without restarts', when: 'hosts whose idle sessions live on' },
  },
  {
    strategy: 'sidecar',
    what: 'the shipped `LeaseKeeper` (`src/keeper/lease-keeper.ts`) in a sidecar process bound to its owner',
    alternative: { strategy: 'worker', what: 'the same keeper on a worker thread of the orchestrator', when: 'hosts that never freeze processes' },
  },
];

/** Items in option order (today's code, 1, 2, 3, then kinds no option lists), stable within an option. */
export function inOptionOrder<T>(items: readonly T[], specOf: (item: T) => StrategySpec): T[] {
  const rank = (item: T): number => optionOf(specOf(item))?.number ?? SEED_OPTIONS.length;
  return items.map((item, i) => ({ item, i })).sort((a, b) => rank(a.item) - rank(b.item) || a.i - b.i).map(({ item }) => item);
}
