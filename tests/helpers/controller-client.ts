// A client of the controller protocol over real HTTP, and an external trainer made of it and a
// Trainer of ours (the tests' SyntheticTrainer): what a PyTorch script does, in TypeScript, so the
// protocol's tests need neither Python nor a model.
import { request } from 'node:http';
import type { Result } from '../../src/shared/rpc';
import type { ControllerTask, RegisterReply, TaskResult } from '../../src/shared/services/controller';
import type { Trainer, TrainerSnapshot } from '../../src/main/runner/trainer';

export interface RawReply {
  status: number;
  body: string;
}

export function post(port: number, path: string, token: string | null, body: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path, headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export class ControllerClient {
  constructor(
    readonly port: number,
    readonly token: string,
  ) {}

  async call<T>(name: string, input: unknown): Promise<Result<T>> {
    const reply = await post(this.port, `/api/call/controller.${name}`, this.token, JSON.stringify({ input }));
    if (reply.status !== 200) throw new Error(`controller.${name}: HTTP ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body) as Result<T>;
  }

  async ok<T>(name: string, input: unknown): Promise<T> {
    const r = await this.call<T>(name, input);
    if (!r.ok) throw new Error(`controller.${name}: ${r.error.name}: ${r.error.message}`);
    return r.value;
  }
}

function domains(losses: Awaited<ReturnType<Trainer['evaluate']>>): { batchLosses: number[]; batchTokens: number[] }[] {
  return losses.map((d) => ({ batchLosses: [...d.batchLosses], batchTokens: [...d.batchTokens] }));
}

/**
 * Answers one task with a Trainer of ours. Probes follow the local loop's order of restores (each
 * later probe starts from the update's snapshot; the last puts the model back), so a remote run
 * driven by a deterministic trainer takes the same decisions as the local loop on a twin of it.
 */
export class TrainerAnswerer {
  private snap: TrainerSnapshot | null = null;
  /** Tasks answered, by kind. */
  readonly counts: Record<string, number> = {};
  /** Decisions carried by train tasks, in order. */
  readonly decisions: NonNullable<Extract<ControllerTask, { kind: 'train' }>['decision']>[] = [];

  constructor(readonly trainer: Trainer) {}

  async answer(task: ControllerTask): Promise<TaskResult | null> {
    this.counts[task.kind] = (this.counts[task.kind] ?? 0) + 1;
    const t = this.trainer;
    switch (task.kind) {
      case 'evaluate':
        return { kind: 'evaluate', domains: domains(await t.evaluate(task.split)) };
      case 'train': {
        if (task.decision) this.decisions.push(task.decision);
        const s = await t.train({ steps: task.steps, mixture: task.mixture, stream: 'main' });
        return { kind: 'train', steps: s.steps, meanLoss: Number.isFinite(s.meanLoss) ? s.meanLoss : null, tokens: s.tokens, skippedSteps: s.skippedSteps };
      }
      case 'probe': {
        if (task.index === 0) this.snap = await t.snapshot();
        else await t.restore(this.snap!, task.direction ? 'all' : 'model');
        const request = task.direction
          ? { steps: task.steps, mixture: task.direction.center, stream: 'probe' as const, direction: { toward: task.direction.toward, epsilon: task.direction.epsilon } }
          : { steps: task.steps, mixture: task.mixture, stream: 'probe' as const };
        await t.train(request);
        const losses = await t.evaluate('probe');
        if (task.index === task.count - 1) {
          await t.restore(this.snap!, 'model');
          await t.release(this.snap!);
          this.snap = null;
        }
        return { kind: 'probe', domains: domains(losses) };
      }
      case 'save': {
        const ref = await t.saveCheckpoint(task.step);
        return { kind: 'save', ref: JSON.stringify(ref) };
      }
      case 'load':
        await t.loadCheckpoint(JSON.parse(task.ref));
        return { kind: 'load' };
      default:
        return null;
    }
  }
}

/** Runs tasks until the run finishes or `stopAfter` tasks were answered; returns the last task seen. */
export async function drive(client: ControllerClient, reg: Pick<RegisterReply, 'runId' | 'session'>, answerer: TrainerAnswerer, stopAfter = Infinity): Promise<ControllerTask> {
  let answered = 0;
  for (;;) {
    const task = await client.ok<ControllerTask>('next', { runId: reg.runId, session: reg.session, waitSeconds: 5 });
    if (task.kind === 'finished') return task;
    if (task.kind === 'wait') continue;
    if (answered >= stopAfter) return task;
    const result = await answerer.answer(task);
    await client.ok('report', { runId: reg.runId, session: reg.session, seq: task.seq, result });
    answered++;
  }
}
