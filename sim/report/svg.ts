/**
 * The lease-age chart as a small hand-written SVG: one sawtooth per strategy, horizontal lines
 * at TTL and TTL + grace, axes with labels, a legend. Fixed layout and number formats, so the
 * same series always give the same bytes.
 */
import { escapeXml } from './markdown.js';
import { fmtMs } from './numbers.js';
import { dropCollinear, type AgePoint } from './trace-analysis.js';

export interface ChartSeries {
  readonly name: string;
  readonly points: readonly AgePoint[];
}

export interface LeaseAgeChart {
  readonly title: string;
  readonly subtitle: string;
  readonly windowMs: number;
  readonly ttlMs: number;
  readonly graceMs: number;
  readonly series: readonly ChartSeries[];
}

const WIDTH = 760;
const HEIGHT = 420;
const PLOT = { left: 72, right: 664, top: 84, bottom: 356 } as const;
const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b'] as const;
const TTL_COLOR = '#444444';
const GRACE_COLOR = '#e07b00';

const n1 = (v: number): string => {
  const text = v.toFixed(1);
  return text === '-0.0' ? '0.0' : text;
};

/** The smallest step from `steps` that needs at most `maxTicks` intervals to cover `span`. */
function niceStep(span: number, steps: readonly number[], maxTicks: number): number {
  for (const s of steps) if (span / s <= maxTicks) return s;
  const last = steps[steps.length - 1] as number;
  return Math.ceil(span / maxTicks / last) * last;
}

const MINUTE = 60_000;
const X_STEPS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 360, 720].map((m) => m * MINUTE);
const Y_STEPS = [5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].map((s) => s * 1000);

/** Renders the chart. */
export function leaseAgeSvg(chart: LeaseAgeChart): string {
  const windowMs = Math.max(chart.windowMs, 1);
  let maxAge = chart.ttlMs + chart.graceMs;
  for (const s of chart.series) for (const p of s.points) if (p.ageMs > maxAge) maxAge = p.ageMs;
  const yStep = niceStep(maxAge * 1.08, Y_STEPS, 8);
  const yMax = Math.ceil((maxAge * 1.08) / yStep) * yStep;
  const xStep = niceStep(windowMs, X_STEPS, 12);
  const x = (t: number): number => PLOT.left + (t / windowMs) * (PLOT.right - PLOT.left);
  const y = (age: number): number => PLOT.bottom - (age / yMax) * (PLOT.bottom - PLOT.top);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="chart-title" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`  <title id="chart-title">${escapeXml(`${chart.title}: ${chart.subtitle}`)}</title>`);
  out.push(`  <rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  out.push(`  <text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`);
  out.push(`  <text x="${WIDTH / 2}" y="44" text-anchor="middle" fill="#555555">${escapeXml(chart.subtitle)}</text>`);

  // Grid and ticks.
  out.push('  <g stroke="#e6e6e6" stroke-width="1">');
  for (let v = 0; v <= yMax; v += yStep) out.push(`    <line x1="${PLOT.left}" y1="${n1(y(v))}" x2="${PLOT.right}" y2="${n1(y(v))}"/>`);
  for (let t = 0; t <= windowMs; t += xStep) out.push(`    <line x1="${n1(x(t))}" y1="${PLOT.top}" x2="${n1(x(t))}" y2="${PLOT.bottom}"/>`);
  out.push('  </g>');
  out.push('  <g fill="#333333">');
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`    <text x="${PLOT.left - 6}" y="${n1(y(v) + 4)}" text-anchor="end">${v / 1000}</text>`);
  }
  for (let t = 0; t <= windowMs; t += xStep) {
    out.push(`    <text x="${n1(x(t))}" y="${PLOT.bottom + 18}" text-anchor="middle">${t / MINUTE}</text>`);
  }
  out.push('  </g>');
  out.push(
    `  <path d="M${PLOT.left},${PLOT.top} V${PLOT.bottom} H${PLOT.right}" fill="none" stroke="#333333" stroke-width="1"/>`,
  );
  out.push(`  <text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 44}" text-anchor="middle">simulated time (minutes)</text>`);
  const yMid = (PLOT.top + PLOT.bottom) / 2;
  out.push(`  <text x="20" y="${yMid}" text-anchor="middle" transform="rotate(-90 20 ${yMid})">lease age: time since last renewal (seconds)</text>`);

  // Limits.
  // Limits, labelled in the right margin: TTL below its line, TTL + grace above its line.
  const limit = (age: number, color: string, dash: string, lines: readonly string[], above: boolean): void => {
    out.push(`  <line x1="${PLOT.left}" y1="${n1(y(age))}" x2="${PLOT.right}" y2="${n1(y(age))}" stroke="${color}" stroke-width="1.2" stroke-dasharray="${dash}"/>`);
    lines.forEach((text, i) => {
      const dy = above ? -5 - (lines.length - 1 - i) * 14 : 13 + i * 14;
      out.push(`  <text x="${PLOT.right + 6}" y="${n1(y(age) + dy)}" fill="${color}">${escapeXml(text)}</text>`);
    });
  };
  const ttlLabel = `TTL ${fmtMs(chart.ttlMs)}`;
  const graceLabel = `TTL + grace ${fmtMs(chart.ttlMs + chart.graceMs)}`;
  limit(chart.ttlMs, TTL_COLOR, '6 4', ['TTL', fmtMs(chart.ttlMs)], false);
  limit(chart.ttlMs + chart.graceMs, GRACE_COLOR, '2 3', ['TTL + grace', fmtMs(chart.ttlMs + chart.graceMs)], true);

  // Series, the first on top.
  for (let i = chart.series.length - 1; i >= 0; i--) {
    const s = chart.series[i] as ChartSeries;
    const color = COLORS[i % COLORS.length] as string;
    const points = dropCollinear(s.points)
      .map((p) => `${n1(x(p.t))},${n1(y(p.ageMs))}`)
      .join(' ');
    const width = i === 0 ? '1.8' : '1.2';
    if (points.length > 0) {
      out.push(`  <polyline fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round" points="${points}"/>`);
    }
  }
  if (chart.series.length === 0) {
    out.push(`  <text x="${(PLOT.left + PLOT.right) / 2}" y="${yMid}" text-anchor="middle" fill="#999999">no trace data</text>`);
  }

  // Legend, one row under the subtitle.
  const legend: Array<{ label: string; color: string; dash: string | null; width: string }> = chart.series.map((s, i) => ({
    label: s.points.length > 0 ? s.name : `${s.name} (no data)`,
    color: COLORS[i % COLORS.length] as string,
    dash: null,
    width: '2.5',
  }));
  legend.push({ label: ttlLabel, color: TTL_COLOR, dash: '6 4', width: '1.2' });
  legend.push({ label: graceLabel, color: GRACE_COLOR, dash: '2 3', width: '1.2' });
  let lx = PLOT.left;
  const ly = 66;
  for (const item of legend) {
    const chars = Array.from(item.label);
    const label = chars.length > 40 ? `${chars.slice(0, 39).join('')}…` : item.label;
    const dash = item.dash === null ? '' : ` stroke-dasharray="${item.dash}"`;
    out.push(`  <line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${item.color}" stroke-width="${item.width}"${dash}/>`);
    out.push(`  <text x="${lx + 30}" y="${ly + 4}">${escapeXml(label)}</text>`);
    lx += 30 + Array.from(label).length * 7 + 22;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
