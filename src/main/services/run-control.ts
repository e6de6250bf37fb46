// The runs service's controls on the run supervisor, and the supervisor's events turned into the
// contract's run.* events: progress (at most a few per second per run, with the device), status,
// decisions (in the stored shape `runs.decisions` returns), evaluations, and metric points as the
// store sink records them — so a live view appends exactly what a reload would read.
import { parseRunConfig } from '../../shared/run-config';
import type { RunDomain } from '../../shared/runs';
import type { MetricPoint } from '../../shared/events';
import { METRIC_KINDS, toStoredDecision } from '../runner/store-sink';
import type { RunSupervisor } from '../runner/supervisor';
import type { SupervisorEvent } from '../runner/supervisor-events';
import type { EventSink } from './models';
import type { RunControl } from './runs';

export class SupervisorRunControl implements RunControl {
  constructor(
    private readonly supervisor: RunSupervisor,
    /** Relative paths of a configuration started from the UI resolve here. */
    private readonly baseDir: string,
  ) {}

  async start(config: unknown, options: { suite: boolean }): Promise<number[]> {
    return this.supervisor.start(parseRunConfig(config, 'configuration'), { suite: options.suite, baseDir: this.baseDir });
  }

  async pause(runId: number): Promise<void> {
    await this.supervisor.pause(runId);
  }

  async resume(runId: number): Promise<void> {
    await this.supervisor.resume(runId);
  }

  async cancel(runId: number): Promise<void> {
    await this.supervisor.cancel(runId);
  }
}

/** What the forwarder needs to know about a run: its sources and domains in the rows' order, and the tokens it had seen. */
export type RunShape = (runId: number) => { sources: string[]; domains: RunDomain[]; tokensSeen: number };

/** Progress events per run are sent at most this often (phase changes and the last step always pass). */
export const PROGRESS_INTERVAL_MS = 250;

/** Subscribes the bus to the supervisor (or to the external runs' host); returns the unsubscribe function. */
export function forwardRunEvents(supervisor: Pick<RunSupervisor, 'subscribe'>, bus: EventSink, shapeOf: RunShape, now: () => number = Date.now): () => void {
  const devices = new Map<number, { device: string; reason: string }>();
  const lastProgress = new Map<number, { at: number; phase: string }>();
  const shapes = new Map<number, { sources: string[]; domains: RunDomain[]; tokensSeen: number }>();
  const shape = (runId: number) => {
    let s = shapes.get(runId);
    if (!s) shapes.set(runId, (s = shapeOf(runId)));
    return s;
  };
  const metrics = (runId: number, points: MetricPoint[]) => {
    if (points.length > 0) bus.emit('run.metrics', { runId, points });
  };
  return supervisor.subscribe((e: SupervisorEvent) => {
    const { runId } = e;
    switch (e.type) {
      case 'status':
        bus.emit('run.status', { runId, status: e.status, reason: e.reason });
        if (e.status !== 'running') {
          lastProgress.delete(runId);
          shapes.delete(runId);
        }
        break;
      case 'device':
        devices.set(runId, { device: e.device, reason: e.reason });
        break;
      case 'progress': {
        const last = lastProgress.get(runId);
        const t = now();
        if (last && last.phase === e.phase && t - last.at < PROGRESS_INTERVAL_MS && e.step < e.totalSteps) break;
        lastProgress.set(runId, { at: t, phase: e.phase });
        const d = devices.get(runId);
        bus.emit('run.progress', {
          runId, phase: e.phase, step: e.step, totalSteps: e.totalSteps, tokensPerSecond: e.tokensPerSecond, elapsedSeconds: e.elapsedSeconds,
          etaSeconds: e.etaSeconds, tokensSeen: shape(runId).tokensSeen, device: d?.device ?? null, deviceReason: d?.reason ?? null,
        });
        break;
      }
      case 'decision': {
        const s = shape(runId);
        bus.emit('run.decision', { runId, decision: toStoredDecision(e.decision, s.sources, s.domains.map((x) => x.id)) });
        break;
      }
      case 'eval': {
        const ids = shape(runId).domains.map((x) => x.id);
        const r = e.record;
        bus.emit('run.eval', { runId, step: r.step, losses: Object.fromEntries(r.losses.map((l, i) => [ids[i] ?? String(i), l])), feasible: r.feasible, worstExcess: r.worstExcess });
        const points: MetricPoint[] = r.losses.map((value, i) => ({ step: r.step, kind: METRIC_KINDS.evalLoss, domain: ids[i] ?? String(i), value }));
        if (Number.isFinite(r.worstExcess)) points.push({ step: r.step, kind: METRIC_KINDS.worstExcess, domain: '', value: r.worstExcess });
        metrics(runId, points);
        break;
      }
      case 'train': {
        const r = e.record;
        // Counted as the store sink counts them: the run's tokens when this session began, plus each chunk's.
        shape(runId).tokensSeen += r.tokens;
        const points: MetricPoint[] = [{ step: r.step, kind: METRIC_KINDS.trainLoss, domain: '', value: r.meanLoss }];
        if (r.skippedSteps > 0) points.push({ step: r.step, kind: METRIC_KINDS.skippedSteps, domain: '', value: r.skippedSteps });
        metrics(runId, points);
        break;
      }
      case 'backtrack':
        // The trainer went back to a checkpoint and rewound the run's counters in the store.
        shapes.delete(runId);
        break;
      case 'references': {
        const ids = shape(runId).domains.map((x) => x.id);
        const points: MetricPoint[] = [];
        e.references.baseTestLosses.forEach((value, i) => points.push({ step: 0, kind: METRIC_KINDS.baseTestLoss, domain: ids[i] ?? String(i), value }));
        e.references.references.forEach((value, i) => {
          if (value !== null) points.push({ step: 0, kind: METRIC_KINDS.reference, domain: ids[i] ?? String(i), value });
        });
        metrics(runId, points);
        break;
      }
      default:
        break;
    }
  });
}
