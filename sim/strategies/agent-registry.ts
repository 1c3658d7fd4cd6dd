import type { SimClock } from '../sim-clock.js';

interface Entry {
  readonly identity: string;
  readonly role: string;
  /** Whether the agent's process lives: a live agent keeps its own entry fresh. */
  readonly alive: () => boolean;
  lastRefreshAt: number;
}

/** Most entries kept; the oldest is dropped past it (a registry of a long run stays small). */
export const MAX_REGISTRY_ENTRIES = 10_000;

/**
 * The agent registry option 2 as built read. Agents register with a role, in order; a live agent
 * refreshes its own entry, and anyone may refresh any entry. An entry whose agent is gone expires
 * `timeoutMs` after its last refresh, so a dead agent stays as long as something refreshes it.
 */
export class AgentRegistry {
  readonly #clock: SimClock;
  readonly #timeoutMs: number;
  /** In registration order. */
  #entries: Entry[] = [];

  constructor(clock: SimClock, timeoutMs: number) {
    this.#clock = clock;
    this.#timeoutMs = timeoutMs;
  }

  /** Registers `identity` now; `alive` tells whether its process still runs (and refreshes it). */
  register(identity: string, role: string, alive: () => boolean): void {
    this.#entries.push({ identity, role, alive, lastRefreshAt: this.#clock.now() });
    if (this.#entries.length > MAX_REGISTRY_ENTRIES) this.#entries.shift();
  }

  /** Marks the entry fresh now (whether or not its agent lives); an expired entry stays gone. */
  refresh(identity: string): void {
    this.#prune();
    this.lastSeen(identity);
  }

  /** The agent was last alive now (call it as its process exits): its entry's timeout runs from here. */
  lastSeen(identity: string): void {
    for (const entry of this.#entries) if (entry.identity === identity) entry.lastRefreshAt = this.#clock.now();
  }

  /** The first agent registered with `role` whose entry has not expired. */
  firstRegistered(role: string): string | undefined {
    this.#prune();
    return this.#entries.find((e) => e.role === role)?.identity;
  }

  #prune(): void {
    const now = this.#clock.now();
    for (const entry of this.#entries) if (entry.alive()) entry.lastRefreshAt = now;
    this.#entries = this.#entries.filter((e) => now - e.lastRefreshAt <= this.#timeoutMs);
  }
}
