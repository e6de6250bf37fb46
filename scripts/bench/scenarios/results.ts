// The scenario benchmark's record of finished runs: one JSON line per run, appended as each run ends,
// so a stopped benchmark continues where it stopped (a run whose key is already there is not trained
// again). The key names the scenario, the seed, the method and a hash of the exact run
// configuration, so changing a setting reruns what it changes and nothing else. A results folder
// holds results.jsonl and, when the benchmark runs as several processes, one results-NAME.jsonl per
// process: each process appends to its own file only and reads them all.
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Which comparison a run belongs to. */
export type MethodFamily = 'dynamics' | 'grid' | 'leave-out' | 'average';

export interface RunRecord {
  v: 1;
  key: string;
  scenario: string;
  seed: number;
  /** The method's name: a DynaMiCS variant ("paper-none", "noise-margin"…), a grid label, "avg:<variant>"… */
  method: string;
  family: MethodFamily;
  configHash: string;
  feasible: boolean;
  /** Geometric mean over targets of 1 − ppl/ppl_base on the test split; 0 when infeasible. */
  targetPplReduction: number;
  maxViolation: number;
  costMultiple: number;
  wallSeconds: number;
  selectedStep: number | null;
  /** The mixture trained on (fixed) or its time average (DynaMiCS). */
  weights: number[];
  /** DynaMiCS only: decisions taken and how many the solver found infeasible. */
  decisions: number;
  infeasibleDecisions: number;
  backtracks: number;
  finishedAt: string;
  /** Target perplexity reduction on the eval split at the selected checkpoint (what a user sees before the test): picks eval-selected best@10. */
  evalReduction?: number;
  /**
   * Measured on one fixed run per cell: per domain, the standard error of the change of its eval loss
   * from the base model's on the same batches (paired per-batch differences), at the run's last
   * evaluation, and the constraint's tolerance in loss units (null for targets).
   */
  noise?: { domains: string[]; changeStdErrors: number[]; levelStdErrors: number[]; tolerances: (number | null)[] };
  /** Calibration of the predictions (DynaMiCS runs): per domain, measured vs predicted change. */
  calibration?: { domains: string[]; slopes: (number | null)[]; points: number };
}

const MAX_LINE = 1 << 20;

/**
 * Reads every record of a results file. A record cut short by a kill mid-write (a line that starts
 * like a record but does not parse) is dropped; that run is simply trained again. Anything else
 * that does not parse is an error naming the line.
 */
export function readResults(file: string): RunRecord[] {
  if (!existsSync(file)) return [];
  const out: RunRecord[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, k) => {
    if (line.trim().length === 0) return;
    if (line.length > MAX_LINE) throw new Error(`${file}:${k + 1}: line longer than ${MAX_LINE} characters`);
    try {
      const r = JSON.parse(line) as RunRecord;
      if (r.v === 1 && typeof r.key === 'string') out.push(r);
    } catch (err) {
      if (!line.startsWith('{"v":1,')) throw new Error(`${file}:${k + 1}: not a JSON record (${(err as Error).message})`);
    }
  });
  return out;
}

/** The results files of a folder: results.jsonl and every results-NAME.jsonl, in name order. */
export function resultsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^results(-[\w.-]+)?\.jsonl$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export class ResultsFile {
  private readonly byKey = new Map<string, RunRecord>();

  /** Appends to `file`; knows the records of `file` and of every results file in `readDir`. */
  constructor(
    readonly file: string,
    readDir?: string,
  ) {
    const files = readDir ? resultsFiles(readDir) : [];
    for (const f of files.includes(file) ? files : [...files, file]) for (const r of readResults(f)) this.byKey.set(r.key, r);
  }

  get(key: string): RunRecord | undefined {
    return this.byKey.get(key);
  }

  add(record: RunRecord): void {
    // A line that ended without a newline (a kill mid-write) gets one first, so records never merge.
    if (existsSync(this.file)) {
      const text = readFileSync(this.file, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) appendFileSync(this.file, '\n');
    }
    appendFileSync(this.file, `${JSON.stringify(record)}\n`);
    this.byKey.set(record.key, record);
  }

  all(): RunRecord[] {
    return [...this.byKey.values()];
  }
}
