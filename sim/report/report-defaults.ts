/** `sim report`'s defaults, in a module of their own so the CLI's start-up loads nothing else of the report. */

/** Where the report goes without `-o`. */
export const DEFAULT_REPORT = 'reports/root-cause.md';

/** `--explore-runs` when not given on the command line. */
export const DEFAULT_EXPLORE_RUNS = 40;
