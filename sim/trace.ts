/** One simulated event: when (simulated ms), who, what, and details. */
export interface TraceEvent {
  readonly t: number;
  readonly actor: string;
  readonly kind: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** Maximum events kept in one trace; later events are counted, not kept. */
export const TRACE_LIMIT = 500_000;

/**
 * Event trace of one run. Disabled traces cost one branch per event: callers check
 * `trace.enabled` before building the event's data.
 */
export class Trace {
  readonly enabled: boolean;
  readonly events: TraceEvent[] = [];
  dropped = 0;
  readonly #now: () => number;

  constructor(enabled: boolean, now: () => number) {
    this.enabled = enabled;
    this.#now = now;
  }

  emit(actor: string, kind: string, data?: Record<string, unknown>): void {
    if (!this.enabled) return;
    if (this.events.length >= TRACE_LIMIT) {
      this.dropped += 1;
      return;
    }
    this.events.push(data === undefined ? { t: this.#now(), actor, kind } : { t: this.#now(), actor, kind, data });
  }

  /** JSON lines, keys in a fixed order. */
  toJsonLines(): string {
    let out = '';
    for (const e of this.events) out += `${JSON.stringify({ t: e.t, actor: e.actor, kind: e.kind, data: e.data ?? {} })}\n`;
    return out;
  }
}
