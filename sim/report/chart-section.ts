/**
 * Section 6: the lease-age chart (SVG beside the markdown) of the incident's run 0, baseline
 * against the shipped strategy, with the exact figures the chart samples.
 */
import { codeSpan } from './markdown.js';
import { fmtMs } from './numbers.js';
import { dur, plural, scenarioRef, strategyRef, text } from './prose.js';
import type { ReportInput } from './report-types.js';
import { rowByName, traceOf, type Row } from './scenario-rows.js';
import { leaseAgeSvg } from './svg.js';
import type { ModelId } from './models.js';
import { leaseAgeSamples, leaseAgeStats } from './trace-analysis.js';

/** Chart window and sampling. */
export const CHART_WINDOW_MS = 3_600_000;
export const CHART_STEP_MS = 5_000;

export interface ChartSection {
  readonly svg: string;
  readonly text: string;
}

/** The incident the chart draws: its scenario, its baseline row, and the model it runs under. */
export interface ChartedIncident {
  readonly input: ReportInput;
  readonly baseline: Row;
  readonly model: ModelId;
}

/** What crossing TTL + grace means under each model. */
const OVER_GRACE: Readonly<Record<ModelId, string>> = {
  seed: "the watchdog's next poll declares the leader dead",
  real: "the lease is no longer healthy, and the watchdog's next check, finding its child gone, spawns a successor",
};

export function chartSection(incident: ChartedIncident | undefined, chartHref: string, shippedName: string): ChartSection {
  const out = ['## 6. Lease age over time', ''];
  const s = incident?.input.scenario;
  const windowMs = s === undefined ? CHART_WINDOW_MS : Math.min(CHART_WINDOW_MS, s.durationMs);
  const shipped = incident === undefined ? undefined : rowByName(incident.input, shippedName);
  const rows: Row[] = incident === undefined ? [] : [incident.baseline, ...(shipped === undefined ? [] : [shipped])];
  const series = rows.map((row) => ({ row, events: incident === undefined ? [] : traceOf(incident.input, row.spec.name) }));
  const ttlMs = s?.lease.ttlMs ?? 0;
  const graceMs = s?.watchdog.graceMs ?? 0;
  const names = rows.map((r) => r.spec.name).join(' vs ');
  const svg = leaseAgeSvg({
    title: rows.length === 0 ? 'Lease age over time' : `Lease age over time: ${names}`,
    subtitle: s === undefined ? 'no scenario with a baseline was given' : `run 0 of ${s.name}, first ${dur(windowMs)}, sampled every ${dur(CHART_STEP_MS)}`,
    windowMs,
    ttlMs,
    graceMs,
    series: series.map(({ row, events }) => ({ name: row.spec.name, points: leaseAgeSamples(events, windowMs, CHART_STEP_MS) })),
  });
  const alt = s === undefined ? 'Lease age over time (no data)' : `Lease age over time in run 0 of ${s.name}: ${names}`;
  out.push(`![${text(alt)}](${chartHref})`, '');
  if (incident === undefined || s === undefined) {
    out.push('No scenario given has a baseline strategy, so the chart is empty.');
    return { svg, text: out.join('\n') };
  }
  out.push(
    `Lease age is the time since the last successful acquisition or renewal, whoever the holder, from the ${codeSpan('acquire')} and ${codeSpan('renew')} events of run 0 of ${scenarioRef(incident.input)}, sampled every ${fmtMs(CHART_STEP_MS)} over the first ${dur(windowMs)}. Above the TTL (${fmtMs(ttlMs)}, dashed) the lease has expired; above TTL + grace (${fmtMs(ttlMs + graceMs)}, dotted) ${OVER_GRACE[incident.model]}. Exact figures over the same window:`,
    '',
  );
  for (const { row, events } of series) {
    const stats = leaseAgeStats(events, windowMs, ttlMs);
    if (stats === null) {
      out.push(`- ${strategyRef(row.spec.name)}: no acquisition or renewal in the window.`);
      continue;
    }
    const over = stats.overLimit === 0 ? 'never passed the TTL' : `passed the TTL ${plural(stats.overLimit, 'time')}`;
    out.push(`- ${strategyRef(row.spec.name)}: ${plural(stats.grants, 'acquisition or renewal', 'acquisitions and renewals')}; the lease age peaked at ${fmtMs(stats.maxAgeMs)} and ${over}.`);
  }
  return { svg, text: out.join('\n') };
}
