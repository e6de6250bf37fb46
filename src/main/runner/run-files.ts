// Files a run keeps in its folder (RUNS/<id>/) beside its checkpoints: the pid file naming the
// process that trains it — so a supervisor can tell a live run from one whose process vanished —
// and the report with the full history. Light on purpose: the supervisor and the CLI import this
// without pulling in the engine.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PID_FILE = 'trainer.pid';

/** The report with the full history, written when the run completes. */
export const REPORT_FILE = 'report.json';

export interface PidFile {
  pid: number;
  startedAt: number;
}

export function writePidFile(runFolder: string, pid: number, startedAt = Date.now()): void {
  mkdirSync(runFolder, { recursive: true });
  writeFileSync(path.join(runFolder, PID_FILE), JSON.stringify({ pid, startedAt } satisfies PidFile));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** The live process that trains the run in `runFolder` according to its pid file, if any (not this one). */
export function liveTrainerPid(runFolder: string): number | null {
  try {
    const pid = (JSON.parse(readFileSync(path.join(runFolder, PID_FILE), 'utf8')) as PidFile).pid;
    return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : null;
  } catch {
    return null;
  }
}
