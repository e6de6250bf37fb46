// The `dynamics` command: a table of subcommands, help and version, and the one place where
// errors are turned into a sentence and an exit code.
import { isUserError } from '../../shared/errors';
import { appVersion } from '../paths';
import type { CliIo, Command } from './command';
import { datasetsCommand } from './commands/datasets';
import { demoCommand } from './commands/demo';
import { generateCommand } from './commands/generate';
import { modelCommand } from './commands/model';
import { resumeCommand } from './commands/resume';
import { runCommand } from './commands/run';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { solveCommand } from './commands/solve';

export const commands: readonly Command[] = [demoCommand, serveCommand, runCommand, resumeCommand, runsCommand, solveCommand, datasetsCommand, modelCommand, generateCommand];

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const rows = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'dynamics: fine-tune LLMs on a data mixture that improves target domains while keeping constrained ones',
    '',
    'usage: dynamics COMMAND [options]',
    '',
    'commands:',
    ...rows,
    '',
    'options:',
    '  --help     show help (also `dynamics COMMAND --help`)',
    '  --version  print the version',
    '',
    'The data directory is $DYNAMICS_HOME, else the folder the desktop app uses.',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const lines = [`usage: ${command.usage}`];
  if (command.subcommands) {
    lines.push('', 'subcommands:');
    for (const s of command.subcommands) lines.push(`  ${s.name.padEnd(10)}  ${s.summary}`);
  }
  return lines.join('\n');
}

/** Finds the command (and subcommand) named by argv, returning it with its remaining arguments. */
function resolve(argv: string[]): { command: Command; rest: string[] } | { unknown: string } | undefined {
  const [name, ...rest] = argv;
  if (name === undefined) return undefined;
  const command = commands.find((c) => c.name === name);
  if (!command) return { unknown: name };
  if (command.subcommands && rest[0] && !rest[0].startsWith('-')) {
    const sub = command.subcommands.find((s) => s.name === rest[0]);
    if (!sub) return { unknown: `${name} ${rest[0]}` };
    return { command: sub, rest: rest.slice(1) };
  }
  return { command, rest };
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      io.out(topHelp());
      return argv.length === 0 ? 2 : 0;
    }
    if (argv[0] === '--version' || argv[0] === '-v') {
      io.out(appVersion());
      return 0;
    }
    const found = resolve(argv);
    if (!found) return 2;
    if ('unknown' in found) {
      io.err(`dynamics: unknown command \`${found.unknown}\` (see \`dynamics --help\`)`);
      return 2;
    }
    const { command, rest } = found;
    if (rest.includes('--help') || rest.includes('-h') || !command.run) {
      io.out(commandHelp(command));
      return command.run ? 0 : 2;
    }
    return await command.run(rest, io);
  } catch (err) {
    if (isUserError(err)) {
      io.err(`dynamics: ${err.message}`);
      return 2;
    }
    io.err(`dynamics: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 1;
  }
}
