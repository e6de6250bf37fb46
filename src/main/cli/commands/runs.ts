// `dynamics runs list|show|export|compare|delete|check`: every stored run, one in detail, its
// metrics as JSON or CSV, several side by side, deleting runs with their files, and the store's
// full integrity check (every page, every checkpoint file's hash, leftovers of crashes).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { RUN_STATUSES, type RunStatus } from '../../store/types';
import { checkStore } from '../../store/integrity';
import { parseCommandArgs, parseIntegerOption, type CliIo, type Command } from '../command';
import { formatComparison, formatRunDetail, formatRunList, metricsCsv, type RunDetail } from './runs-format';
import { DB_OPTION, openCliStore, parseRunId, type CliStore } from './store-access';
import { liveTrainerPid } from '../../runner/run-files';

function formatOption(command: string, value: string | undefined, allowed: readonly string[], fallback: string): string {
  const format = value ?? fallback;
  if (!allowed.includes(format)) throw new UserError(`--format of \`dynamics ${command}\` must be ${allowed.join(' or ')}, not ${JSON.stringify(format)}`);
  return format;
}

function json(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1);
}

/** Opens the store, runs `fn`, closes it. */
async function withStore<T>(io: CliIo, db: string | undefined, fn: (cli: CliStore) => T | Promise<T>): Promise<T> {
  const cli = openCliStore(io, db, { mustExist: true });
  try {
    return await fn(cli);
  } finally {
    cli.close();
  }
}

function detail(cli: CliStore, id: number, eventLimit: number): RunDetail {
  const { reader } = cli.store;
  return reader.snapshot(() => {
    const run = reader.get(id);
    const events = reader.events(id, { limit: 100_000 });
    return {
      run,
      checkpoints: reader.checkpoints(id),
      decisions: reader.decisions(id).length,
      outcomes: reader.outcomes(id),
      series: reader.curves(id).series,
      events: events.slice(-eventLimit),
    };
  });
}

const list: Command = {
  name: 'list',
  summary: 'list stored runs, newest first',
  usage: `dynamics runs list [--db FILE] [--format table|json] [--status S[,S…]] [--tag T] [--search TEXT] [--limit N]`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('runs list', argv, {
      ...DB_OPTION, format: { type: 'string' }, status: { type: 'string' }, tag: { type: 'string' }, search: { type: 'string' }, limit: { type: 'string' },
    }, false);
    void positionals;
    const format = formatOption('runs list', values.format, ['table', 'json'], 'table');
    const statuses = values.status?.split(',').map((s) => s.trim());
    for (const s of statuses ?? []) if (!(RUN_STATUSES as readonly string[]).includes(s)) throw new UserError(`--status ${JSON.stringify(s)} is not a run status (${RUN_STATUSES.join(', ')})`);
    const limit = parseIntegerOption('limit', values.limit, 1, 1_000_000);
    return withStore(io, values.db, (cli) => {
      const runs = cli.store.reader.list({
        ...(statuses ? { status: statuses as RunStatus[] } : {}),
        ...(values.tag ? { tag: values.tag } : {}),
        ...(values.search ? { search: values.search } : {}),
        ...(limit ? { limit } : {}),
      });
      io.out(format === 'json' ? json(runs) : formatRunList(runs).join('\n'));
      return 0;
    });
  },
};

const show: Command = {
  name: 'show',
  summary: 'one run in detail: status, score, last evaluation, calibration of the decisions, checkpoints, log',
  usage: `dynamics runs show RUN_ID [--db FILE] [--format text|json] [--events N]`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('runs show', argv, { ...DB_OPTION, format: { type: 'string' }, events: { type: 'string' } });
    const id = parseRunId(positionals[0], 'runs show');
    const format = formatOption('runs show', values.format, ['text', 'json'], 'text');
    const events = parseIntegerOption('events', values.events, 0, 100_000) ?? 20;
    return withStore(io, values.db, (cli) => {
      const d = detail(cli, id, events);
      io.out(format === 'json' ? json({ run: d.run, checkpoints: d.checkpoints, decisions: cli.store.reader.decisions(id), outcomes: d.outcomes, events: d.events }) : formatRunDetail(d).join('\n'));
      return 0;
    });
  },
};

const exportRun: Command = {
  name: 'export',
  summary: "a run's metrics, decisions, checkpoints and log as JSON, or its metrics as CSV",
  usage: `dynamics runs export RUN_ID [--db FILE] [--format json|csv] [--out FILE]

json: the run record, every curve (steps, values, tokens, wall time), every decision (weights,
slope matrix, losses, predictions, solver details), the checkpoints and the log.
csv: one line per stored point: ${'run_id,run_name,strategy,step,tokens,wall_ms,kind,domain,value'}.
Written to standard output unless --out FILE.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('runs export', argv, { ...DB_OPTION, format: { type: 'string' }, out: { type: 'string' } });
    const id = parseRunId(positionals[0], 'runs export');
    if (positionals.length > 1) throw new UserError(`unexpected argument ${positionals[1]} for \`dynamics runs export\` (one run at a time)`);
    const format = formatOption('runs export', values.format, ['json', 'csv'], 'json');
    return withStore(io, values.db, (cli) => {
      const { reader } = cli.store;
      const text = reader.snapshot(() => {
        const run = reader.get(id);
        const series = reader.curves(id).series;
        if (format === 'csv') return metricsCsv([{ run, series }]);
        return `${json({
          format: 'dynamics-run-export-1', run, curves: series, decisions: reader.decisions(id), outcomes: reader.outcomes(id), checkpoints: reader.checkpoints(id), events: reader.events(id, { limit: 1_000_000 }),
        })}\n`;
      });
      if (values.out) {
        const file = path.resolve(values.out);
        try {
          writeFileSync(file, text);
        } catch (err) {
          throw new UserError(`cannot write ${file} (${(err as { code?: string }).code ?? String(err)})`);
        }
        io.err(`wrote run ${id} as ${format} to ${file}`);
      } else {
        (io.write ?? ((t: string) => io.out(t.replace(/\n$/, ''))))(text);
      }
      return 0;
    });
  },
};

const compare: Command = {
  name: 'compare',
  summary: 'several runs side by side: scores and the last value of a metric per domain',
  usage: `dynamics runs compare RUN_ID RUN_ID… [--db FILE] [--kind KIND] [--format table|json]

KIND is a stored metric (default eval_loss; also train_loss, worst_excess, reference, base_test_loss).
json: the runs and, per run and domain, the whole curve of KIND.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('runs compare', argv, { ...DB_OPTION, kind: { type: 'string' }, format: { type: 'string' } });
    if (positionals.length === 0) throw new UserError('`dynamics runs compare` needs the ids of the runs to compare');
    const ids = positionals.map((p) => parseRunId(p, 'runs compare'));
    if (ids.length > 100) throw new UserError(`at most 100 runs can be compared at once (got ${ids.length})`);
    const kind = values.kind ?? 'eval_loss';
    const format = formatOption('runs compare', values.format, ['table', 'json'], 'table');
    return withStore(io, values.db, (cli) => {
      const { reader } = cli.store;
      const runs = reader.snapshot(() => ids.map((id) => ({ run: reader.get(id), series: reader.curves(id, { kind }).series })));
      if (runs.every((r) => r.series.length === 0)) io.err(`none of these runs has a metric ${JSON.stringify(kind)}`);
      io.out(format === 'json' ? json({ kind, runs: runs.map((r) => r.run), series: runs.flatMap((r) => r.series) }) : formatComparison(runs, kind).join('\n'));
      return 0;
    });
  },
};

const remove: Command = {
  name: 'delete',
  summary: 'delete runs with their metrics, checkpoints and files',
  usage: `dynamics runs delete RUN_ID… [--db FILE]

A running run must be paused or cancelled first.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('runs delete', argv, DB_OPTION);
    if (positionals.length === 0) throw new UserError('`dynamics runs delete` needs the ids of the runs to delete');
    const ids = positionals.map((p) => parseRunId(p, 'runs delete'));
    return withStore(io, values.db, (cli) => {
      for (const id of ids) {
        const paths = cli.store.runs.delete(id);
        cli.files.remove(paths);
        cli.files.removeRunFolder(id);
        io.out(`deleted run ${id} (${paths.length} checkpoint${paths.length === 1 ? '' : 's'})`);
      }
      return 0;
    });
  },
};

const check: Command = {
  name: 'check',
  summary: "full integrity check: the database's every page, every checkpoint file's hash, crash leftovers",
  usage: `dynamics runs check [--db FILE]

Runs SQLite's integrity_check and foreign-key check, reads every complete checkpoint file against
the size and hash recorded when it was saved, and lists what a crash can leave behind. Exit 0
when nothing is damaged (leftovers are warnings), 1 otherwise.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('runs check', argv, DB_OPTION, false);
    return withStore(io, values.db, (cli) => {
      // A run marked running is live when its trainer's pid file names a live process.
      const report = checkStore(cli.store, cli.files, { isActive: (id) => liveTrainerPid(cli.files.runFolder(id)) !== null });
      for (const f of report.findings) io.err(`${f.severity}: ${f.message}`);
      const mib = (report.bytesVerified / 2 ** 20).toFixed(1);
      io.out(`${report.ok ? 'ok' : 'damaged'}: ${cli.store.file} · ${report.runs} run${report.runs === 1 ? '' : 's'} · ${report.checkpointsVerified} checkpoint files verified (${mib} MiB) · ${report.findings.filter((f) => f.severity === 'error').length} errors, ${report.findings.filter((f) => f.severity === 'warning').length} warnings`);
      return report.ok ? 0 : 1;
    });
  },
};

export const runsCommand: Command = {
  name: 'runs',
  summary: 'stored runs: list, show, export (json, csv), compare, delete, check',
  usage: 'dynamics runs list|show|export|compare|delete|check [options]',
  subcommands: [list, show, exportRun, compare, remove, check],
};
