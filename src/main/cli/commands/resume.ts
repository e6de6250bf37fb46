// `dynamics resume RUN_ID [--db FILE] [--threads N]`: continues a paused, interrupted or failed run
// exactly from its newest complete checkpoint (a run of a suite: then the suite's runs that never
// started), with the same progress bar and report as `dynamics run`.
import { UserError } from '../../../shared/errors';
import { parseCommandArgs, parseIntegerOption, type Command } from '../command';
import { watchRuns } from './run-watch';
import { createCliSupervisor, DB_OPTION, openCliStore, parseRunId } from './store-access';

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'continue a paused, interrupted or failed run from its last checkpoint',
  usage: `dynamics resume RUN_ID [--db FILE] [--threads N]

Continues the run from its newest complete checkpoint whose file verifies (rows recorded after it
are deleted first, so the run ends exactly as if it had never stopped). A run that belongs to a
suite is followed by the suite's runs that have not started yet.

  --db FILE      the run store (default: dynamics.db in the data directory)
  --threads N    ONNX Runtime threads (default: the physical cores)`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('resume', argv, { ...DB_OPTION, threads: { type: 'string' } });
    if (positionals.length > 1) throw new UserError(`unexpected argument ${positionals[1]} for \`dynamics resume\``);
    const id = parseRunId(positionals[0], 'resume');
    const threads = parseIntegerOption('threads', values.threads, 1, 1024);
    const cli = openCliStore(io, values.db, { mustExist: true });
    try {
      const run = cli.store.reader.get(id);
      const supervisor = createCliSupervisor(cli, threads);
      await supervisor.resume(id);
      io.out(String(id));
      const key = run.launch?.suite?.key;
      // A suite is shown whole: its runs completed earlier, this one, and those still to start.
      const ids = key ? cli.store.reader.suiteMembers(key).map((m) => m.id) : [id];
      return await watchRuns({ supervisor, store: cli.store, ids, io, runFolder: (runId) => cli.files.runFolder(runId) });
    } finally {
      cli.close();
    }
  },
};
