/** Where a CLI writes: injectable so commands can be run and checked in-process. */
export interface MainIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Whether the stream that shows interactive output (a table, a progress bar) is a terminal. */
  readonly isTTY: boolean;
}

/** The real process streams; `tty` names the stream whose terminal-ness matters to the command. */
export function processIo(tty: 'stdout' | 'stderr'): MainIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: Boolean(process[tty].isTTY),
  };
}
