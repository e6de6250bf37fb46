// `datasets check`: reads a whole file, collects every problem with its line, and decides by the
// import policy whether the file is usable (bad lines are skipped and reported; the file is
// refused when nothing usable remains or more than a configurable share of its records is bad).
import type { CheckReport, Problem } from '../../shared/datasets';
import { exampleChars } from './formats';
import { readExamples, type ReadOptions } from './reader';
import { inspectSource, type FileKind } from './source';
import { LengthHistogram } from './stats';

export type { CheckReport, Problem } from '../../shared/datasets';


export interface ImportPolicy {
  /** Largest share of bad records (0..1) a file may have and still be imported. */
  maxBadShare: number;
}

export const DEFAULT_POLICY: ImportPolicy = { maxBadShare: 0.1 };

/** Keeps the first problems verbatim and counts the rest, so a file of a million bad lines stays cheap. */
export class ProblemLog {
  readonly first: Problem[] = [];
  count = 0;
  constructor(private readonly keep = 100) {}

  add(line: number, reason: string): void {
    this.count++;
    if (this.first.length < this.keep) this.first.push({ line, reason });
  }
}

export function formatProblem(file: string, p: Problem): string {
  return `${file}:${p.line}: ${p.reason}`;
}

export interface Verdict {
  usable: boolean;
  /** Why the file is refused, as one sentence; null when usable. */
  reason: string | null;
}

/** The import policy applied to counts. `records`: examples + bad records. */
export function policyVerdict(examples: number, bad: number, policy: ImportPolicy): Verdict {
  const records = examples + bad;
  if (records === 0) return { usable: false, reason: 'the file holds no examples' };
  if (examples === 0) return { usable: false, reason: `nothing usable remains: all ${bad} record${bad === 1 ? ' was' : 's were'} refused` };
  const share = bad / records;
  if (share > policy.maxBadShare) {
    return {
      usable: false,
      reason: `${(share * 100).toFixed(1)}% of the records are bad (${bad} of ${records}), more than the allowed ${(policy.maxBadShare * 100).toFixed(1)}%`,
    };
  }
  return { usable: true, reason: null };
}


export interface CheckOptions {
  kind?: FileKind;
  read?: Partial<ReadOptions>;
  policy?: ImportPolicy;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
}

/** Reads the whole file and reports. Unreadable files (binary, empty, a JSON array…) throw a UserError. */
export async function checkFile(file: string, options: CheckOptions = {}): Promise<CheckReport> {
  const info = await inspectSource(file, options.kind);
  const stream = readExamples(info, options.read);
  const problems = new ProblemLog();
  const chars = new LengthHistogram();
  let examples = 0;
  let n = 0;
  for await (const ev of stream.events) {
    if ('problem' in ev) problems.add(ev.line, ev.problem);
    else {
      examples++;
      chars.add(exampleChars(ev.example));
    }
    if (options.onProgress && ++n % 4096 === 0) options.onProgress(stream.source.bytesRead(), info.bytes);
  }
  const verdict = policyVerdict(examples, problems.count, options.policy ?? DEFAULT_POLICY);
  return {
    file,
    bytes: info.bytes,
    gzip: info.gzip,
    fileKind: info.kind,
    format: stream.kind(),
    examples,
    badRecords: problems.count,
    problems: problems.first,
    chars: chars.toJSON(),
    contentHash: stream.source.digest(),
    usable: verdict.usable,
    reason: verdict.reason,
  };
}
