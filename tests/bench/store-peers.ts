// The peers bench:store compares our store against, built to be fair rather than slow:
// - "naive": the schema as one would first write it from the spec — one metrics table with text
//   run/kind/domain columns, tokens and wall time on every row, and UNIQUE(run, step, kind, domain)
//   as its only index; runs without summary columns (the list derives progress from metrics).
//   Same pragmas as ours (WAL, synchronous=FULL), statements prepared once, batched transactions.
// - "jsonl": no database: one run.json per run and an append-only metrics.jsonl per run, fsynced
//   per batch; a curve is a parse of the run's file.
import BetterSqlite3 from 'better-sqlite3';
import type { Database, Statement } from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';

export interface Series {
  kind: string;
  domain: string;
  steps: number[];
  values: number[];
  tokens: number[];
  wallMs: number[];
}

export interface ListedRun {
  id: string;
  name: string;
  status: string;
  createdAt: number;
  lastStep: number | null;
  lastLoss: number | null;
}

/** The value every writer records for (run, step, domain): loss-like, never an integer. */
export function benchValue(run: number, step: number, domain: number): number {
  return 2 + Math.sin(run * 0.37 + step * 0.001 + domain) * 0.5 + (step % 7) * 1e-3;
}

export function runKey(run: number): string {
  return `r${String(run).padStart(6, '0')}`;
}

export class NaiveStore {
  readonly db: Database;
  private readonly insert: Statement;
  private readonly curvesStatement: Statement<[string], [number, string, string, number, number, number]>;
  private readonly listStatement: Statement<[], ListedRun>;

  constructor(file: string) {
    this.db = new BetterSqlite3(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('cache_size = -16384');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS metrics (run_id TEXT NOT NULL, step INTEGER NOT NULL, kind TEXT NOT NULL, domain TEXT NOT NULL,
        value REAL, tokens INTEGER NOT NULL, wall_ms INTEGER NOT NULL, UNIQUE (run_id, step, kind, domain));`);
    this.insert = this.db.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.curvesStatement = this.db.prepare<[string], [number, string, string, number, number, number]>(
      'SELECT step, kind, domain, value, tokens, wall_ms FROM metrics WHERE run_id = ? ORDER BY step',
    ).raw();
    this.listStatement = this.db.prepare<[], ListedRun>(`SELECT id, name, status, created_at AS createdAt,
      (SELECT max(step) FROM metrics m WHERE m.run_id = r.id) AS lastStep,
      (SELECT value FROM metrics m WHERE m.run_id = r.id AND m.kind = 'eval_loss' AND m.domain = 'd0' ORDER BY step DESC LIMIT 1) AS lastLoss
      FROM runs r ORDER BY created_at DESC`);
  }

  addRun(run: number, createdAt: number): void {
    this.db.prepare('INSERT INTO runs VALUES (?, ?, ?, ?, ?)').run(runKey(run), `run ${run}`, '{"steps":10000}', 'completed', createdAt);
  }

  /** One batch of steps in one transaction, as a trainer would flush it. */
  writeBatch(run: number, fromStep: number, toStep: number, domains: number): number {
    const key = runKey(run);
    const domainNames = Array.from({ length: domains }, (_, d) => `d${d}`);
    this.db.transaction(() => {
      for (let step = fromStep; step < toStep; step++) {
        for (let d = 0; d < domains; d++) this.insert.run(key, step, 'eval_loss', domainNames[d], benchValue(run, step, d), step * 4096, step * 50);
      }
    }).immediate();
    return (toStep - fromStep) * domains;
  }

  /** Bulk fill of one run in C (a recursive CTE), in the key order its writer would produce. */
  fillRun(run: number, steps: number, domains: number): void {
    const domainRows = Array.from({ length: domains }, (_, d) => `(${d})`).join(', ');
    this.db.prepare(`INSERT INTO metrics
      WITH RECURSIVE s(step) AS (SELECT 0 UNION ALL SELECT step + 1 FROM s WHERE step < ${steps - 1}),
        d(dom) AS (VALUES ${domainRows})
      SELECT ?, step, 'eval_loss', 'd' || dom, 2 + sin(? * 0.37 + step * 0.001 + dom) * 0.5 + (step % 7) * 1e-3, step * 4096, step * 50
      FROM s, d ORDER BY step, dom`).run(runKey(run), run);
  }

  /** A run's curves, grouped into series in JS (what the UI needs). */
  curves(run: number): Series[] {
    const bySeries = new Map<string, Series>();
    for (const [step, kind, domain, value, tokens, wallMs] of this.curvesStatement.all(runKey(run))) {
      const key = `${kind}\u0000${domain}`;
      let s = bySeries.get(key);
      if (!s) bySeries.set(key, (s = { kind, domain, steps: [], values: [], tokens: [], wallMs: [] }));
      s.steps.push(step);
      s.values.push(value);
      s.tokens.push(tokens);
      s.wallMs.push(wallMs);
    }
    return [...bySeries.values()];
  }

  list(): ListedRun[] {
    return this.listStatement.all();
  }

  close(): void {
    this.db.close();
  }
}

export class JsonlStore {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private runDir(run: number): string {
    return path.join(this.dir, runKey(run));
  }

  addRun(run: number, createdAt: number, lastStep: number): void {
    mkdirSync(this.runDir(run), { recursive: true });
    const summary = { id: runKey(run), name: `run ${run}`, status: 'completed', createdAt, lastStep, lastLoss: benchValue(run, lastStep, 0) };
    writeFileSync(path.join(this.runDir(run), 'run.json'), JSON.stringify({ ...summary, config: { steps: 10000 } }));
  }

  /** Appends a batch of lines and fsyncs, so a batch is as durable as a committed transaction. */
  writeBatch(run: number, fromStep: number, toStep: number, domains: number): number {
    const lines: string[] = [];
    for (let step = fromStep; step < toStep; step++) {
      for (let d = 0; d < domains; d++) {
        lines.push(JSON.stringify({ step, kind: 'eval_loss', domain: `d${d}`, value: benchValue(run, step, d), tokens: step * 4096, wall_ms: step * 50 }));
      }
    }
    mkdirSync(this.runDir(run), { recursive: true });
    const fd = openSync(path.join(this.runDir(run), 'metrics.jsonl'), 'a');
    try {
      writeSync(fd, lines.join('\n') + '\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return lines.length;
  }

  curves(run: number): Series[] {
    const text = readFileSync(path.join(this.runDir(run), 'metrics.jsonl'), 'utf8');
    const bySeries = new Map<string, Series>();
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const p = JSON.parse(line) as { step: number; kind: string; domain: string; value: number; tokens: number; wall_ms: number };
      const key = `${p.kind}\u0000${p.domain}`;
      let s = bySeries.get(key);
      if (!s) bySeries.set(key, (s = { kind: p.kind, domain: p.domain, steps: [], values: [], tokens: [], wallMs: [] }));
      s.steps.push(p.step);
      s.values.push(p.value);
      s.tokens.push(p.tokens);
      s.wallMs.push(p.wall_ms);
    }
    return [...bySeries.values()].sort((a, b) => a.domain.localeCompare(b.domain));
  }

  list(): ListedRun[] {
    const runs = readdirSync(this.dir).map((name) => JSON.parse(readFileSync(path.join(this.dir, name, 'run.json'), 'utf8')) as ListedRun);
    return runs.sort((a, b) => b.createdAt - a.createdAt);
  }
}
