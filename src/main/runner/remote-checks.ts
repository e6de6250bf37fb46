// What the controller checks in what an external trainer sends, before the loop sees it: the
// experiment config of a registration (a run config whose model and data stay the trainer's) and
// each report against the task it answers. Every refusal is a sentence naming what to fix.
import { InvalidInputError, UserError } from '../../shared/errors';
import { describeIssues } from '../../shared/run-config/issues';
import { parseRunConfig, type RunConfig } from '../../shared/run-config';
import { CONTROLLER_LIMITS, externalRunConfigSchema, type ControllerTask, type ParsedTaskResult } from '../../shared/services/controller';

/** A refused controller call: `name` tells the client what kind of mistake (docs/controller-protocol.md). */
export class ControllerError extends UserError {
  constructor(code: 'ProtocolMismatch' | 'UnknownRun' | 'StaleSession' | 'WrongPhase' | 'InvalidInput', message: string) {
    super(message);
    this.name = code;
  }
}

export function toRunConfig(input: unknown): RunConfig {
  const parsed = externalRunConfigSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new InvalidInputError(`invalid config: ${describeIssues(parsed.error.issues, 'the config')}`);
  const c = parsed.data;
  if (c.strategy.kind === 'gradient-alignment') {
    throw new InvalidInputError('invalid config: gradient alignment needs every domain\'s gradient from the model, which the controller protocol does not carry; use strategy "dynamics" or a fixed mixture');
  }
  const unsized = c.strategy.kind === 'fixed-proportional' ? c.sources.find((s) => s.size === undefined) : undefined;
  if (unsized) throw new InvalidInputError(`invalid config: fixed-proportional needs every source's size (sources.${c.sources.indexOf(unsized)}.size, for ${JSON.stringify(unsized.id)}): the controller cannot measure the trainer's data`);
  const { model, ...rest } = c;
  return parseRunConfig({
    ...rest,
    model: { path: `external:${model?.name ?? 'model'}` },
    sources: c.sources.map((s) => ({ ...s, dataset: s.dataset ?? `external:${s.id}` })),
    domains: c.domains.map((d) => ({ ...d, dataset: d.dataset ?? `external:${d.id}` })),
  }, 'config');
}

/** The problems of a report for its task, in words; the loop checks them again as it would a local trainer's. */
export function checkReport(task: ControllerTask, result: ParsedTaskResult, config: RunConfig): void {
  const m = config.domains.length;
  if (task.kind === 'wait' || task.kind === 'finished') throw new ControllerError('WrongPhase', `task ${task.seq} (${task.kind}) takes no report`);
  if (result.kind !== task.kind) throw new ControllerError('WrongPhase', `task ${task.seq} is a ${task.kind} task; the report is a ${result.kind} result`);
  if (result.kind === 'evaluate' || result.kind === 'probe') {
    const batches = (task as Extract<ControllerTask, { kind: 'evaluate' | 'probe' }>).batches;
    if (result.domains.length !== m) throw new InvalidInputError(`the report has ${result.domains.length} domains; the run has ${m} (${config.domains.map((d) => d.id).join(', ')}), in that order`);
    let values = 0;
    result.domains.forEach((d, i) => {
      const id = config.domains[i]!.id;
      if (d.batchLosses.length > batches) throw new InvalidInputError(`domain ${JSON.stringify(id)} has ${d.batchLosses.length} batch losses; the task asked for ${batches} batches`);
      if (d.batchTokens && d.batchTokens.length !== d.batchLosses.length) throw new InvalidInputError(`domain ${JSON.stringify(id)} has ${d.batchLosses.length} batch losses but ${d.batchTokens.length} token counts`);
      values += d.batchLosses.length;
    });
    if (values > CONTROLLER_LIMITS.batchValues) throw new InvalidInputError(`the report holds ${values} batch losses; at most ${CONTROLLER_LIMITS.batchValues} are accepted`);
  } else if (result.kind === 'train') {
    const steps = (task as Extract<ControllerTask, { kind: 'train' }>).steps;
    if (result.steps + result.skippedSteps !== steps) throw new InvalidInputError(`the task was ${steps} steps; the report has ${result.steps} taken and ${result.skippedSteps} skipped`);
  }
}
