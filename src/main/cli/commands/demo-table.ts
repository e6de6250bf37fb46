// The demo's results table and the lines around it, from plain data (stored run summaries and the
// reports the trainer processes sent), so they are testable without training anything.
import type { RunConfig } from '../../../shared/run-config';
import { formatDuration, table } from '../../runner/terminal';

export interface DemoRow {
  runId: number;
  label: string;
  /** 'dynamics' rows are the adaptive runs; the others are fixed mixtures. */
  adaptive: boolean;
  status: string;
  feasible: boolean | null;
  /** Target test-perplexity reduction (0..1); 0 for an infeasible run. */
  targetGain: number | null;
  maxViolation: number | null;
  costMultiple: number | null;
  wallSeconds: number;
  /** The mixture trained on, averaged over steps (fixed runs: their mixture). */
  weights: readonly number[] | null;
}

const pct = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`);

function mixture(ids: readonly string[], w: readonly number[] | null): string {
  if (!w) return '-';
  return ids
    .map((id, j) => ({ id, w: w[j] ?? 0 }))
    .filter((x) => x.w >= 0.005)
    .map((x) => `${x.id} ${x.w.toFixed(2)}`)
    .join(' · ');
}

/** One sentence per role: what the scenario asks for. */
export function scenarioLines(config: RunConfig, harmful: readonly string[]): string[] {
  const domainsWith = (role: string) => config.domains.filter((d) => d.role === role).map((d) => d.id);
  const domainData = new Set(config.domains.map((d) => d.dataset));
  const sources = config.sources.map((s) => {
    const tags = [domainData.has(s.dataset) ? null : 'auxiliary', harmful.includes(s.id) ? 'expected to hurt' : null].filter((t) => t !== null);
    return tags.length > 0 ? `${s.id} (${tags.join(', ')})` : s.id;
  });
  const constraints = config.domains
    .filter((d) => d.role === 'constraint')
    .map((d) => (d.reference?.kind === 'relative' ? `${d.id} (within ${(100 * d.reference.tolerance).toFixed(0)}%)` : d.id));
  return [
    `targets: ${domainsWith('target').join(', ')} (lower their loss)`,
    `constraints: ${constraints.join(', ')} (keep each at or below the base model's loss)`,
    `sources: ${sources.join(', ')}`,
    `model: ${config.model.path}, ${config.training.steps} steps of ${config.training.batchSize} × ${config.training.seqLength} tokens, LoRA r${config.model.adapter.kind === 'lora' ? config.model.adapter.rank : '-'}`,
  ];
}

export function resultsTable(rows: readonly DemoRow[], sourceIds: readonly string[]): string[] {
  return table(
    ['run', 'method', 'target ppl reduction', 'feasible', 'max violation', 'cost', 'wall', 'mixture (average over steps)'],
    rows.map((r) => [
      String(r.runId),
      r.label,
      r.status === 'completed' ? pct(r.targetGain) : r.status,
      r.feasible === null ? '-' : r.feasible ? 'yes' : 'no',
      r.maxViolation === null || !Number.isFinite(r.maxViolation) ? '-' : r.maxViolation.toFixed(4),
      r.costMultiple === null || !Number.isFinite(r.costMultiple) ? '-' : `${r.costMultiple.toFixed(2)}×`,
      formatDuration(r.wallSeconds),
      mixture(sourceIds, r.weights),
    ]),
    [true, false, true, false, true, true, true, false],
  );
}

/** The verdict under the table: the adaptive runs against the best feasible fixed mixture. */
export function verdictLines(rows: readonly DemoRow[]): string[] {
  const fixed = rows.filter((r) => !r.adaptive && r.status === 'completed');
  const feasibleFixed = fixed.filter((r) => r.feasible === true);
  const best = feasibleFixed.reduce<DemoRow | null>((b, r) => (b === null || (r.targetGain ?? 0) > (b.targetGain ?? 0) ? r : b), null);
  const lines = [
    `fixed mixtures feasible: ${feasibleFixed.length} of ${fixed.length}; best feasible fixed mixture: ${best ? `${best.label} (${pct(best.targetGain)})` : 'none (every fixed mixture broke a constraint or did not improve the target)'}`,
  ];
  for (const r of rows.filter((x) => x.adaptive && x.status === 'completed')) {
    const vs = best ? ` vs ${pct(best.targetGain)} for the best fixed mixture` : '';
    lines.push(`${r.label}: ${r.feasible ? `feasible, ${pct(r.targetGain)} target perplexity reduction${vs}` : 'no feasible checkpoint (scores 0%)'}, at ${r.costMultiple === null ? '-' : r.costMultiple.toFixed(2)}× the cost of one fixed run`);
  }
  return lines;
}

export const HOW_TO_READ = [
  'How to read it:',
  '- target ppl reduction: 1 − perplexity/base perplexity on the targets\' test split (geometric mean over targets), at the',
  '  run\'s best feasible checkpoint; a run with no feasible checkpoint scores 0%.',
  '- feasible: some checkpoint kept every constraint\'s eval loss at or below its reference and improved the targets.',
  '- max violation: the worst constraint\'s eval loss minus its reference at that checkpoint (≤ 0 when feasible; for an',
  '  infeasible run, the smallest worst excess over its checkpoints), in nats.',
  '- cost: forward-equivalent compute as a multiple of one fixed-mixture run of the same length (probing is the extra).',
  '- wall: the run\'s wall time here, including loading and tokenizing on the first run.',
  '- mixture: the share of training batches per source, averaged over the run.',
];
