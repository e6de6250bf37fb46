// Trainer processes in the desktop app: Electron's utilityProcess (a Node process Chromium's
// process model knows about, with no window and no renderer), behind the supervisor's
// ProcessLauncher interface. The CLI and serve fork plain Node children instead.
import { utilityProcess } from 'electron';
import type { LaunchRequest, ProcessLauncher, TrainerEntry, TrainerProcess } from '../runner/process-launcher';
import { UtilityProcessTrainer, type UtilityChild } from './utility-trainer';

export interface UtilityLauncherOptions {
  entry: TrainerEntry;
  env?: NodeJS.ProcessEnv;
  /** better-sqlite3 built for Electron, passed on to each trainer (see TrainerJob.sqliteNativeBinding). */
  sqliteNativeBinding?: string;
  /** Electron's utilityProcess.fork; tests pass a stand-in. */
  fork?: (modulePath: string, args: string[], options: Electron.ForkOptions) => UtilityChild;
}

export class UtilityProcessLauncher implements ProcessLauncher {
  constructor(private readonly options: UtilityLauncherOptions) {}

  launch(request: LaunchRequest): TrainerProcess {
    const fork = this.options.fork ?? ((file: string, args: string[], o: Electron.ForkOptions) => utilityProcess.fork(file, args, o) as unknown as UtilityChild);
    const child = fork(this.options.entry.file, [], {
      stdio: 'pipe',
      serviceName: `DynaMiCS trainer (run ${request.runId})`,
      env: this.options.env ?? process.env,
      execArgv: this.options.entry.execArgv,
    });
    return new UtilityProcessTrainer(child, this.options.sqliteNativeBinding);
  }
}
