// The shape every `dynamics` subcommand has, and the argument parsing they share. User mistakes
// become a UserError: one sentence on stderr and a non-zero exit, never a stack trace.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../../shared/errors';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Writes to standard output without a newline (streamed text); absent where output is collected. */
  write?: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the user asks the process to stop (Ctrl-C, SIGTERM). */
  untilInterrupted: () => Promise<void>;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage lines shown by `dynamics NAME --help`. */
  usage: string;
  /** Subcommands, when this command is a group (`dynamics runs list`). */
  subcommands?: readonly Command[];
  run?: (argv: string[], io: CliIo) => Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with our error wording; `--help` is handled by the dispatcher before this runs. */
export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    if (unknown) throw new UserError(`unknown option ${unknown[1]} for \`dynamics ${command}\` (see \`dynamics ${command} --help\`)`);
    const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(msg);
    if (missing) throw new UserError(`option ${missing[1]} of \`dynamics ${command}\` needs a value`);
    const positional = /Unexpected argument '([^']+)'/.exec(msg);
    if (positional) throw new UserError(`unexpected argument ${positional[1]} for \`dynamics ${command}\``);
    throw new UserError(`${msg.replace(/\.$/, '')} (see \`dynamics ${command} --help\`)`);
  }
}

export function parseIntegerOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UserError(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return n;
}
