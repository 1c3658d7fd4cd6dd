/**
 * Fixed number formats for the report: same value → same text, on every machine. No locale,
 * no wall clock.
 */

/** A time figure in seconds with one decimal (`359.6s`); `never` and `—` (no data) pass through. */
export function fmtMs(value: number | 'never' | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value === 'never') return 'never';
  if (!Number.isFinite(value)) return value > 0 ? 'never' : '—';
  return `${(value / 1000).toFixed(1)}s`;
}

/** A simulated instant as `1h02m03.4s`, `7m12.0s` or `12.3s` (tenths of a second). */
export function fmtClock(ms: number): string {
  const tenths = Math.round(ms / 100);
  const h = Math.floor(tenths / 36_000);
  const m = Math.floor((tenths % 36_000) / 600);
  const s = Math.floor((tenths % 600) / 10);
  const f = tenths % 10;
  if (h > 0) return `${h}h${pad2(m)}m${pad2(s)}.${f}s`;
  if (m > 0) return `${m}m${pad2(s)}.${f}s`;
  return `${s}.${f}s`;
}

/** `t=7m12.0s`. */
export function fmtT(ms: number): string {
  return `t=${fmtClock(ms)}`;
}

/** A rate or mean with `digits` decimals. */
export function fmtNum(value: number | null | undefined, digits: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** An integer count. */
export function fmtInt(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return String(Math.round(value));
}

/** Minutes with one decimal, for cycle lengths (`10.0 min`). */
export function fmtMin(ms: number): string {
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** A range of milliseconds as the scenario writes it (`5m..8m`, or `30s` when fixed). */
export function fmtRange(range: { readonly minMs: number; readonly maxMs: number }, format: (ms: number) => string): string {
  return range.minMs === range.maxMs ? format(range.minMs) : `${format(range.minMs)}..${format(range.maxMs)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
