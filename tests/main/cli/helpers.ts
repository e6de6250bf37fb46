// Runs the `dynamics` CLI entry in-process for tests: output and errors collected as text, the
// data directory given, Ctrl-C simulated a set number of times (each call of untilInterrupted
// resolves while interrupts are left; after that it never does), and, when asked, a terminal's
// unbroken writes (commands print through `out` instead where there is none).
import { main } from '../../../src/main/cli/index';

export interface CliResult {
  code: number;
  out: string;
  err: string;
  /** With `write: true`: what the command wrote without line breaks. */
  written: string;
}

export async function runCli(argv: string[], options: { home?: string; interrupts?: number; write?: boolean } = {}): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const written: string[] = [];
  let left = options.interrupts ?? 0;
  const code = await main(argv, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    ...(options.write ? { write: (t: string) => written.push(t) } : {}),
    env: options.home === undefined ? {} : { DYNAMICS_HOME: options.home },
    untilInterrupted: () => (left-- > 0 ? Promise.resolve() : new Promise<void>(() => {})),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), written: written.join('') };
}
