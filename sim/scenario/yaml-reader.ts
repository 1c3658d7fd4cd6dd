/**
 * Typed, located reads over a parsed YAML document: {@link Reader} turns nodes into numbers, durations and
 * ranges, {@link Fields} holds one mapping's keys. Every failure is a {@link ScenarioError} at `file:line:column`.
 * Kept apart from load-scenario.ts, which says *what* a scenario holds; this file says *how* a node is read.
 */

import { LineCounter, Scalar, isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';
import { parseDurationMs } from '../../src/duration.js';
import { formatValue } from '../../src/errors.js';
import { ScenarioError } from './scenario-error.js';
import type { RangeMs } from './types.js';

const DURATION = 'a duration such as 180s, 5m, 24h';
const RANGE = 'a duration or range such as 30s or 5m..8m';

/** The keys and value nodes of one YAML mapping, already checked against the allowed keys. */
export class Fields {
  private readonly values = new Map<string, unknown>();

  constructor(
    private readonly r: Reader,
    private readonly path: string,
    /** Where the mapping starts (or its parent, when absent): missing fields point here. */
    private readonly offset: number,
    /** False when an optional mapping is absent altogether. */
    readonly present: boolean,
  ) {}

  set(key: string, value: unknown): void {
    this.values.set(key, value);
  }

  /** Keys present, in file order. */
  get keys(): string[] {
    return [...this.values.keys()];
  }

  child(key: string): string {
    return this.path === '' ? key : `${this.path}.${key}`;
  }

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): unknown {
    return this.values.get(key);
  }

  /** The value node of a field that must be present. */
  need(key: string): unknown {
    if (!this.values.has(key)) this.r.fail(this.offset, this.child(key), 'required field', 'nothing');
    return this.values.get(key);
  }
}

/** Typed readers over YAML nodes; every failure throws a located {@link ScenarioError}. */
export class Reader {
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document,
  ) {}

  at(offset: number): { file: string; line: number; column: number } {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col };
  }

  /** Throws for the node (or offset); `got` defaults to a description of the node. */
  fail(where: unknown, path: string, expected: string, got?: string): never {
    const offset = typeof where === 'number' ? where : offsetOf(where);
    throw new ScenarioError(this.at(offset), path, expected, got ?? describe(this.resolve(where)));
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** A mapping with only `allowed` keys. With `optional`, an absent node gives an empty, non-present mapping. */
  fields(node: unknown, path: string, allowed: readonly string[], optional = false): Fields {
    const value = this.resolve(node);
    if (value === undefined && optional) return new Fields(this, path, 0, false);
    if (!isMap(value)) this.fail(node, path === '' ? '(document)' : path, 'a mapping');
    const f = new Fields(this, path, offsetOf(value), true);
    for (const pair of value.items) {
      const key = this.resolve(pair.key);
      const name = isScalar(key) ? String(key.value) : undefined;
      const keyPath = name === undefined ? path : f.child(name);
      if (name === undefined || !allowed.includes(name)) {
        const got = name === undefined ? describe(key) : formatValue(name);
        this.fail(pair.key, keyPath, oneOf(allowed, name ?? ''), got);
      }
      // `? key` with no value: an empty scalar at the key, so messages point there.
      f.set(name, pair.value ?? Object.assign(new Scalar(null), { range: isScalar(key) ? key.range : null }));
    }
    return f;
  }

  list(node: unknown, path: string): unknown[] {
    const value = this.resolve(node);
    if (!isSeq(value) || value.items.length === 0) this.fail(node, path, 'a non-empty list');
    return value.items;
  }

  private scalar(node: unknown): unknown {
    const value = this.resolve(node);
    return isScalar(value) ? value.value : undefined;
  }

  /** A non-empty string. */
  name(node: unknown, path: string): string {
    const value = this.scalar(node);
    if (typeof value !== 'string' || value.trim() === '') this.fail(node, path, 'a non-empty string');
    return value;
  }

  /** One of `allowed` (a string), with a did-you-mean on a near miss. */
  choice<T extends string>(node: unknown, path: string, allowed: readonly T[]): T {
    const value = this.scalar(node);
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      this.fail(node, path, oneOf(allowed, typeof value === 'string' ? value : ''));
    }
    return value as T;
  }

  integer(node: unknown, path: string, min: number, max: number): number {
    const value = this.scalar(node);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(node, path, `an integer from ${min} to ${max}`);
    }
    return value;
  }

  /** A finite number, optionally at least `min`. */
  number(node: unknown, path: string, min?: number): number {
    const value = this.scalar(node);
    if (typeof value !== 'number' || !Number.isFinite(value) || (min !== undefined && value < min)) {
      this.fail(node, path, min === undefined ? 'a number' : `a number >= ${min}`);
    }
    return value;
  }

  /** A duration in ms: `positive` requires > 0, otherwise >= 0. */
  duration(node: unknown, path: string, positive: boolean): number {
    const text = this.scalar(node);
    if (typeof text !== 'string') this.fail(node, path, DURATION);
    const bound = positive ? 'a duration > 0' : 'a duration >= 0';
    if (text.trim().startsWith('-')) this.fail(node, path, bound);
    const ms = parseDurationMs(text);
    if (ms === undefined) this.fail(node, path, DURATION);
    if (positive && ms === 0) this.fail(node, path, bound);
    return ms;
  }

  /** A duration that may be negative (`-30s`). */
  signedDuration(node: unknown, path: string): number {
    const text = this.scalar(node);
    const expected = 'a signed duration such as 5m or -30s';
    if (typeof text !== 'string') this.fail(node, path, expected);
    const trimmed = text.trim();
    const negative = trimmed.startsWith('-');
    const ms = parseDurationMs(negative ? trimmed.slice(1) : trimmed);
    if (ms === undefined) this.fail(node, path, expected);
    return negative ? -ms : ms;
  }

  /** `lo..hi` (uniform) or a single duration (fixed), both bounds >= 0. */
  range(node: unknown, path: string): RangeMs {
    const text = this.scalar(node);
    if (typeof text !== 'string') this.fail(node, path, RANGE);
    const parts = text.split('..');
    if (parts.length > 2) this.fail(node, path, RANGE);
    if (parts.some((p) => p.trim().startsWith('-'))) this.fail(node, path, 'a range of durations >= 0');
    const [minMs, maxMs = minMs] = parts.map(parseDurationMs);
    if (minMs === undefined || maxMs === undefined) this.fail(node, path, RANGE);
    if (minMs > maxMs) this.fail(node, path, 'a range whose lower bound <= upper bound');
    return { minMs, maxMs };
  }
}

function offsetOf(node: unknown): number {
  const range = (node as { range?: readonly number[] | null } | null | undefined)?.range;
  return range?.[0] ?? 0;
}

function describe(node: unknown): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return formatValue(node.value);
  return 'nothing';
}

export function formatScalar(node: unknown): string {
  return isScalar(node) ? String(node.value).trim() : describe(node);
}

/** `one of a, b, c`, plus ` (did you mean "x"?)` when `word` is a near miss of one of them. */
export function oneOf(allowed: readonly string[], word: string): string {
  const hint = suggest(word, allowed);
  return `one of ${allowed.join(', ')}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`;
}

/** The closest candidate within Levenshtein distance 2, or one that `word` is a prefix of (or vice versa). */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (word === '') return undefined;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = levenshtein(word.toLowerCase(), c.toLowerCase());
    const near = d <= 2 || c.startsWith(word) || word.startsWith(c);
    if (near && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = row;
  }
  return prev[b.length] as number;
}
