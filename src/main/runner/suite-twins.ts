// A suite's fixed baselines that come out as the same mixture (proportional equals uniform when
// there is one target source) are trained once: a later one is recorded completed with the
// earlier one's score and a reason that names it. The supervisor checks before starting a process
// when it knows the sources' sizes (from an earlier run of the suite); a trainer process checks
// again once it has loaded the data (a suite continued in another session).
import type { RunConfig } from '../../shared/run-config';
import { fixedStrategyWeights } from '../mixture/baselines';
import type { Store } from '../store/index';
import type { RunRecord } from '../store/types';

const sameMixture = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, j) => Math.abs(x - b[j]!) <= 1e-12);

/** An earlier completed run of the same suite whose fixed mixture equals this run's, if any. */
export function sameMixtureMember(store: Store, run: RunRecord, config: RunConfig, sizes: readonly number[] | undefined): RunRecord | null {
  const suite = run.launch?.suite;
  if (!suite || !config.strategy.kind.startsWith('fixed-')) return null;
  let weights: number[] | null;
  try {
    weights = fixedStrategyWeights(config, sizes);
  } catch {
    return null; // proportional without known sizes: the trainer decides once it has the data
  }
  if (!weights) return null;
  for (const member of store.reader.suiteMembers(suite.key)) {
    if (member.id === run.id || member.status !== 'completed') continue;
    const other = store.reader.get(member.id);
    if ((other.launch?.suite?.index ?? Infinity) >= suite.index || /^the same mixture as run/.test(other.statusReason ?? '')) continue;
    const first = store.reader.decisions(member.id)[0];
    if (first && first.status === 'fixed' && sameMixture(first.weights, weights)) return other;
  }
  return null;
}

/** Records `runId` (created or running) as completed with its twin's score; returns the reason. */
export function recordTwin(store: Store, runId: number, twin: RunRecord): string {
  const reason = `the same mixture as run ${twin.id} (${twin.strategy}), so not trained again; its results stand for this run`;
  if (store.reader.get(runId).status === 'created') store.runs.start(runId, null);
  store.runs.setDevice(runId, twin.device ?? 'none', 'not trained');
  const { feasible, targetGain, maxViolation, costMultiple, selectedStep } = twin;
  store.runs.setScore(runId, { feasible, targetGain, maxViolation, costMultiple, selectedStep });
  store.runs.setStatus(runId, 'completed', reason);
  return reason;
}
