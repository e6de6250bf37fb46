// SQL rows to records: column names to camelCase, integer flags to booleans, JSON columns parsed.
// A JSON column that fails to parse means the file was edited or damaged, so the error says which
// table, row and column.
import { DatabaseDamagedError } from './errors';
import type {
  CheckpointRecord, DatasetRecord, Decision, DecisionStatus, EventLevel, ModelRecord, RunDomain, RunEvent, RunLaunch, RunRecord, RunStatus,
  RunSuiteMembership, RunSummary,
} from './types';

export function parseJsonColumn<T>(text: string | null, where: string): T | null {
  if (text === null) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new DatabaseDamagedError(`the database holds invalid JSON in ${where}`);
  }
}

function requiredJson<T>(text: string, where: string): T {
  return parseJsonColumn<T>(text, where) as T;
}

function flag(value: number | null): boolean | null {
  return value === null ? null : value === 1;
}

/** NaN cannot be stored by SQLite (it becomes NULL); numeric JSON uses null the same way. */
export function toNumber(value: number | null): number {
  return value === null ? Number.NaN : value;
}

/** Columns of the runs list; the full record adds config, sources, domains and the rest. */
export const RUN_SUMMARY_COLUMNS = `id, name, strategy, seed, status, status_reason, tags, device, created_at, started_at, updated_at,
  finished_at, total_steps, last_step, tokens_seen, duration_ms, feasible, target_gain, max_violation, cost_multiple, selected_step,
  json_extract(launch, '$.suite') AS suite`;

export interface RunSummaryRow {
  id: number;
  name: string;
  strategy: string;
  seed: number;
  status: RunStatus;
  status_reason: string | null;
  tags: string;
  device: string | null;
  created_at: number;
  started_at: number | null;
  updated_at: number;
  finished_at: number | null;
  total_steps: number | null;
  last_step: number | null;
  tokens_seen: number;
  duration_ms: number;
  feasible: number | null;
  target_gain: number | null;
  max_violation: number | null;
  cost_multiple: number | null;
  selected_step: number | null;
  /** RunLaunch.suite as JSON text (null for a run on its own, or launched before launches were recorded). */
  suite: string | null;
}

export interface RunRow extends RunSummaryRow {
  config: string;
  sources: string;
  domains: string;
  app_version: string;
  device_reason: string | null;
  model_id: number | null;
  launch: string | null;
}

export function toRunSummary(row: RunSummaryRow): RunSummary {
  return {
    id: row.id,
    name: row.name,
    strategy: row.strategy,
    seed: row.seed,
    status: row.status,
    statusReason: row.status_reason,
    tags: requiredJson<string[]>(row.tags, `runs.tags of run ${row.id}`),
    device: row.device,
    createdAt: row.created_at,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    totalSteps: row.total_steps,
    lastStep: row.last_step,
    tokensSeen: row.tokens_seen,
    durationMs: row.duration_ms,
    feasible: flag(row.feasible),
    targetGain: row.target_gain,
    maxViolation: row.max_violation,
    costMultiple: row.cost_multiple,
    selectedStep: row.selected_step,
    suite: parseJsonColumn<RunSuiteMembership>(row.suite, `runs.launch.suite of run ${row.id}`),
  };
}

export function toRunRecord(row: RunRow): RunRecord {
  return {
    ...toRunSummary(row),
    config: requiredJson<unknown>(row.config, `runs.config of run ${row.id}`),
    sources: requiredJson<string[]>(row.sources, `runs.sources of run ${row.id}`),
    domains: requiredJson<RunDomain[]>(row.domains, `runs.domains of run ${row.id}`),
    appVersion: row.app_version,
    deviceReason: row.device_reason,
    modelId: row.model_id,
    launch: parseJsonColumn<RunLaunch>(row.launch, `runs.launch of run ${row.id}`),
  };
}

export interface DecisionRow {
  run_id: number;
  step: number;
  horizon: number;
  weights: string;
  slopes: string | null;
  losses: string | null;
  predicted: string | null;
  status: DecisionStatus;
  solver: string;
  binding: string;
}

export function toDecision(row: DecisionRow): Decision {
  const where = (column: string) => `decisions.${column} of run ${row.run_id} step ${row.step}`;
  return {
    step: row.step,
    horizon: row.horizon,
    weights: requiredJson<number[]>(row.weights, where('weights')),
    slopes: parseJsonColumn<number[][]>(row.slopes, where('slopes')),
    losses: parseJsonColumn<number[]>(row.losses, where('losses')),
    predicted: parseJsonColumn<number[]>(row.predicted, where('predicted')),
    status: row.status,
    solver: requiredJson<Record<string, unknown>>(row.solver, where('solver')),
    binding: requiredJson<string[]>(row.binding, where('binding')),
  };
}

export interface CheckpointRow {
  run_id: number;
  step: number;
  path: string;
  complete: number;
  sha256: string | null;
  bytes: number | null;
  feasible: number | null;
  losses: string | null;
  created_at: number;
}

export function toCheckpoint(row: CheckpointRow): CheckpointRecord {
  return {
    runId: row.run_id,
    step: row.step,
    path: row.path,
    complete: row.complete === 1,
    sha256: row.sha256,
    bytes: row.bytes,
    feasible: flag(row.feasible),
    losses: parseJsonColumn<Record<string, number>>(row.losses, `checkpoints.losses of run ${row.run_id} step ${row.step}`),
    createdAt: row.created_at,
  };
}

export interface EventRow {
  id: number;
  run_id: number | null;
  at: number;
  level: EventLevel;
  message: string;
  step: number | null;
  data: string | null;
}

export function toEvent(row: EventRow): RunEvent {
  return {
    id: row.id,
    runId: row.run_id,
    at: row.at,
    level: row.level,
    message: row.message,
    step: row.step,
    data: parseJsonColumn<unknown>(row.data, `events.data of event ${row.id}`),
  };
}

export interface DatasetRow {
  id: number;
  name: string;
  path: string;
  format: string;
  sha256: string | null;
  bytes: number | null;
  records: number | null;
  info: string;
  created_at: number;
}

export function toDataset(row: DatasetRow): DatasetRecord {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    format: row.format,
    sha256: row.sha256,
    bytes: row.bytes,
    records: row.records,
    info: requiredJson<Record<string, unknown>>(row.info, `datasets.info of dataset ${row.id}`),
    createdAt: row.created_at,
  };
}

export interface ModelRow {
  id: number;
  name: string;
  path: string;
  architecture: string | null;
  parameters: number | null;
  info: string;
  created_at: number;
}

export function toModel(row: ModelRow): ModelRecord {
  return {
    id: row.id,
    name: row.name,
    path: row.path,
    architecture: row.architecture,
    parameters: row.parameters,
    info: requiredJson<Record<string, unknown>>(row.info, `models.info of model ${row.id}`),
    createdAt: row.created_at,
  };
}
