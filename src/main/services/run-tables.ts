// Pure helpers of the runs service: sorting the runs list, the configuration diff of several runs,
// and the CSV export of their curves.
import type { RunSummary } from '../../shared/runs';
import type { ConfigDiffRow, RunSortKey } from '../../shared/services/runs';
import type { MetricSeries } from '../../shared/runs';

/** Sorts in place; nulls last whatever the direction, then newest first. */
export function sortRuns(runs: RunSummary[], key: RunSortKey, direction: 'asc' | 'desc'): RunSummary[] {
  const sign = direction === 'asc' ? 1 : -1;
  const value = (r: RunSummary): number | string | null => {
    const v = r[key];
    if (typeof v === 'boolean') return v ? 1 : 0;
    return v as number | string | null;
  };
  return runs.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
    } else if (va !== vb) {
      const c = typeof va === 'string' && typeof vb === 'string' ? va.localeCompare(vb) : (va as number) - (vb as number);
      if (c !== 0) return sign * c;
    }
    return b.createdAt - a.createdAt || b.id - a.id;
  });
}

/** Leaf values of a JSON document by path ("training.steps", "domains[1].role"); arrays of scalars stay whole. */
export function flatten(value: unknown, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) out.set(prefix, value);
    else value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(prefix, {});
    for (const [k, v] of entries) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.set(prefix, value);
  }
  return out;
}

/** The fields whose values differ between the configurations (missing counts as null), in document order. */
export function configDiff(configs: readonly unknown[]): ConfigDiffRow[] {
  const flat = configs.map((c) => flatten(c));
  const paths: string[] = [];
  const seen = new Set<string>();
  for (const f of flat) {
    for (const p of f.keys()) {
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
    }
  }
  const rows: ConfigDiffRow[] = [];
  for (const p of paths) {
    const values = flat.map((f) => (f.has(p) ? f.get(p) : null));
    const first = JSON.stringify(values[0]);
    if (values.some((v) => JSON.stringify(v) !== first)) rows.push({ path: p, values });
  }
  return rows;
}

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = 'run_id,run_name,strategy,step,tokens,wall_ms,kind,domain,value';

/** CSV lines of one run's series (without the header). */
export function csvLines(run: Pick<RunSummary, 'id' | 'name' | 'strategy'>, series: readonly MetricSeries[], out: string[]): void {
  const head = `${run.id},${csvField(run.name)},${csvField(run.strategy)},`;
  for (const s of series) {
    const tail = `,${csvField(s.kind)},${csvField(s.domain)},`;
    for (let i = 0; i < s.steps.length; i++) {
      out.push(`${head}${s.steps[i]},${csvField(s.tokens[i] ?? null)},${csvField(s.wallMs[i] ?? null)}${tail}${csvField(s.values[i]!)}`);
    }
  }
}
