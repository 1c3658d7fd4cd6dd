/**
 * What the report is built from and what it gives back. The report is a pure function of these
 * inputs, so regeneration gives the same bytes.
 */
import type { ScenarioReport } from '../run-scenario.js';
import type { Scenario } from '../scenario/types.js';

/** One scenario as run for the report: the loaded scenario (after overrides) and its report. */
export interface ReportInput {
  readonly scenario: Scenario;
  /** Carries the trace of run 0 (`runScenario(scenario, { traceRun: 0 })`) when the scenario is a model's incident (`pickIncidents`): the report reads no other trace. */
  readonly report: ScenarioReport;
}

/** One exploration result (filled by `sim explore`): randomized runs of a scenario and how many failed. */
export interface ExploreSummary {
  readonly scenario: string;
  readonly strategy: string;
  /** Simulated duration of each generated schedule. */
  readonly durationMs: number;
  readonly runs: number;
  readonly failures: number;
  readonly seed: number;
  /** The first violation of the shrunk schedule, when one was found. */
  readonly violation?: string;
}

/** Results from other tools that the report shows when given. */
export interface ValidationExtras {
  readonly explore?: readonly ExploreSummary[];
}

export interface ReportOptions {
  /** Path of the markdown file as the user wrote it (shown in the reproduce commands). */
  readonly output: string;
  /** Whether `output` is the default (then the commands leave `-o` out). */
  readonly defaultOutput: boolean;
  /** Link from the markdown to the chart (relative to the markdown file). */
  readonly chartHref: string;
  /** Command-line overrides, normalized, in the order `--seed`, `--runs`, `--duration`. */
  readonly overrideArgs: readonly string[];
  readonly extras?: ValidationExtras;
}

export interface BuiltReport {
  readonly markdown: string;
  readonly svg: string;
}
