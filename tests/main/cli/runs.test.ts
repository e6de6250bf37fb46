// `dynamics runs list|show|export|compare|delete|check` on a store holding two real runs (trained
// by `dynamics run --db FILE` in trainer processes): tables and JSON, CSV export, comparison,
// deletion with the run's files, the integrity check finding a damaged checkpoint, and one-sentence
// answers to mistakes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../../src/main/cli/commands/runs-format';
import { Store } from '../../../src/main/store/index';
import type { RunSummary } from '../../../src/main/store/types';
import { processWorld } from '../runner/process-fixtures';
import { runCli } from './helpers';

const world = processWorld('dynamics-cli-runs-');
const home = path.join(world.dir, 'home');
const db = path.join(world.dir, 'lab.db');
const runsDir = path.join(world.dir, 'lab-runs');
let dynamicsId: number;
let fixedId: number;

const cli = (argv: string[]) => runCli(argv, { home, write: true });

beforeAll(async () => {
  const a = await cli(['run', world.configFile, '--db', db, '--threads', '1']);
  expect(a.code, a.err).toBe(0);
  dynamicsId = Number(a.out.split('\n')[0]);
  const fixedFile = path.join(world.dir, 'fixed.yaml');
  writeFileSync(fixedFile, `${readFileSync(world.configFile, 'utf8').replace('name: short', 'name: short fixed')}strategy: { kind: fixed-uniform, targetMass: 0.5 }\n`);
  const b = await cli(['run', fixedFile, '--db', db, '--threads', '1']);
  expect(b.code, b.err).toBe(0);
  fixedId = Number(b.out.split('\n')[0]);
}, 240_000);

describe('dynamics runs', () => {
  it('keeps a --db store apart from the data directory, with its checkpoints beside it', () => {
    expect(existsSync(path.join(home, 'dynamics.db'))).toBe(false);
    expect(existsSync(path.join(runsDir, String(dynamicsId), 'checkpoints', 'step-00000012.ckpt'))).toBe(true);
  });

  it('lists runs newest first, as a table or JSON, filtered', async () => {
    const table = await cli(['runs', 'list', '--db', db]);
    expect(table.code).toBe(0);
    const lines = table.out.split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+strategy\s+status\s+step\s+feasible\s+target ppl red\.\s+max violation\s+cost\s+created$/);
    expect(lines[1]).toMatch(new RegExp(`^\\s*${fixedId}\\s+short fixed\\s+uniform m=0\\.5\\s+completed\\s+12/12\\s+(yes|no)\\s+`));
    expect(lines[2]).toMatch(new RegExp(`^\\s*${dynamicsId}\\s+short\\s+dynamics\\s+completed\\s+12/12\\s+(yes|no)\\s+-?\\d+\\.\\d%\\s+-?\\d+\\.\\d{4}\\s+\\d+\\.\\d\\d×\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`));
    const json = JSON.parse((await cli(['runs', 'list', '--db', db, '--format', 'json', '--search', 'FIXED'])).out) as RunSummary[];
    expect(json.map((r) => r.id)).toEqual([fixedId]);
    expect(json[0]).toMatchObject({ status: 'completed', strategy: 'uniform m=0.5', totalSteps: 12, lastStep: 12 });
    expect((await cli(['runs', 'list', '--db', db, '--status', 'paused'])).out).toBe('no runs');
    expect((await cli(['runs', 'list', '--db', db, '--status', 'sleeping'])).err).toBe('dynamics: --status "sleeping" is not a run status (created, running, paused, interrupted, completed, failed, cancelled)');
  });

  it('shows one run in detail, as text or JSON', async () => {
    const text = await cli(['runs', 'show', String(dynamicsId), '--db', db]);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(new RegExp(`^run ${dynamicsId}: short · dynamics · seed 5$`, 'm'));
    expect(text.out).toMatch(/^status: completed \((feasible, target perplexity reduction -?\d+\.\d%|no feasible checkpoint)\)$/m);
    expect(text.out).toMatch(/^device: cpu \(the CPU was requested\)$/m);
    expect(text.out).toMatch(/^email\s+constraint\s+\d+\.\d{4}\s+12$/m);
    expect(text.out).toMatch(/^decisions: 3 · checkpoints: 3 \(steps 4, 8, 12\)$/m);
    // The calibration per domain: every decision measured at the end of its horizon.
    expect(text.out).toMatch(/^calibration \(measured against predicted change over each decision's horizon\):$/m);
    expect(text.out).toMatch(/^domain\s+role\s+decisions\s+slope\s+correlation\s+mean \|error\|\s+calibrated slope\s+calibrated \|error\|$/m);
    expect(text.out).toMatch(/^email\s+constraint\s+3\s+-?\d+\.\d\d\s+(-?\d\.\d\d|-)\s+\d\.\d{4}\s+-?\d+\.\d\d\s+\d\.\d{4}$/m);
    expect(text.out).toMatch(/info {2}running → completed/);
    const json = JSON.parse((await cli(['runs', 'show', String(dynamicsId), '--db', db, '--format', 'json'])).out) as {
      run: { id: number; config: { name: string } }; decisions: unknown[]; checkpoints: unknown[]; outcomes: { step: number; domain: string; measuredAt: number }[];
    };
    expect(json.run).toMatchObject({ id: dynamicsId, config: { name: 'short' } });
    expect(json.decisions).toHaveLength(3);
    expect(new Set(json.outcomes.map((o) => o.step))).toEqual(new Set([0, 4, 8]));
    expect(json.outcomes.filter((o) => o.domain === 'email').map((o) => o.measuredAt)).toEqual([4, 8, 12]);
    expect(json.checkpoints).toHaveLength(3);
  });

  it('exports a run as JSON and as CSV, to standard output or a file', async () => {
    const j = await cli(['runs', 'export', String(dynamicsId), '--db', db, '--format', 'json']);
    expect(j.code).toBe(0);
    const doc = JSON.parse(j.written) as { format: string; curves: { kind: string; domain: string; steps: number[]; values: number[] }[]; decisions: { weights: number[] }[]; events: unknown[] };
    expect(doc.format).toBe('dynamics-run-export-1');
    expect(doc.curves.find((c) => c.kind === 'train_loss')!.steps).toEqual([4, 8, 12]); // a progress chunk of 16 steps ends at each checkpoint
    expect(doc.decisions[0]!.weights).toHaveLength(2);

    const csvFile = path.join(world.dir, 'run.csv');
    const c = await cli(['runs', 'export', String(dynamicsId), '--db', db, '--format', 'csv', '--out', csvFile]);
    expect(c.err).toBe(`wrote run ${dynamicsId} as csv to ${csvFile}`);
    const lines = readFileSync(csvFile, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    // One line per stored point, each value exactly as stored.
    const points = doc.curves.reduce((n, s) => n + s.steps.length, 0);
    expect(lines).toHaveLength(points + 1);
    const evalCode = doc.curves.find((s) => s.kind === 'eval_loss' && s.domain === 'code')!;
    expect(lines).toContain(`${dynamicsId},short,dynamics,4,${lines.find((l) => l.includes(',4,') && l.includes('train_loss'))!.split(',')[4]},${lines.find((l) => l.includes(',4,') && l.includes('train_loss'))!.split(',')[5]},eval_loss,code,${evalCode.values[1]}`);
    expect((await cli(['runs', 'export', String(dynamicsId), '--db', db, '--format', 'xml'])).err).toBe('dynamics: --format of `dynamics runs export` must be json or csv, not "xml"');
  });

  it('compares runs side by side', async () => {
    const t = await cli(['runs', 'compare', String(dynamicsId), String(fixedId), '--db', db]);
    expect(t.code).toBe(0);
    const lines = t.out.split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+strategy\s+status\s+feasible\s+target ppl red\.\s+max violation\s+cost\s+selected\s+eval_loss code\s+eval_loss email\s+eval_loss licenses$/);
    expect(lines).toHaveLength(3);
    const json = JSON.parse((await cli(['runs', 'compare', String(dynamicsId), String(fixedId), '--db', db, '--kind', 'train_loss', '--format', 'json'])).out) as { series: { runId: number }[] };
    expect(json.series.map((s) => s.runId)).toEqual([dynamicsId, fixedId]);
    expect((await cli(['runs', 'compare', String(dynamicsId), '77', '--db', db])).err).toBe('dynamics: there is no run 77');
  });

  it('checks the store whole, finds a damaged checkpoint file, and deletes a run with its files', async () => {
    const ok = await cli(['runs', 'check', '--db', db]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ok: .*lab\.db · 2 runs · 6 checkpoint files verified \(\d+\.\d MiB\) · 0 errors, 0 warnings$/);

    const store = Store.open(db, { appVersion: 'test' });
    const victim = store.reader.checkpoints(fixedId)[0]!;
    store.close();
    writeFileSync(path.join(runsDir, victim.path), 'damaged');
    const bad = await cli(['runs', 'check', '--db', db]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(new RegExp(`^error: run ${fixedId}: the checkpoint .*step-00000004\\.ckpt cannot be used: it is 7 bytes long, but \\d+ were written`));

    const del = await cli(['runs', 'delete', String(fixedId), '--db', db]);
    expect(del.out).toBe(`deleted run ${fixedId} (3 checkpoints)`);
    expect(existsSync(path.join(runsDir, String(fixedId)))).toBe(false);
    expect((await cli(['runs', 'check', '--db', db])).code).toBe(0);
    expect((await cli(['runs', 'delete', String(fixedId), '--db', db])).err).toBe(`dynamics: there is no run ${fixedId}`);
  });

  it('answers mistakes in one sentence', async () => {
    expect((await cli(['runs', 'show', '--db', db])).err).toBe('dynamics: `dynamics runs show` needs a RUN_ID');
    expect((await cli(['runs', 'list', '--db', path.join(world.dir, 'none.db')])).err).toBe(`dynamics: there is no database ${path.join(world.dir, 'none.db')}`);
    expect((await cli(['runs', 'list'])).err).toMatch(/^dynamics: there are no runs yet \(no database at .*dynamics\.db; `dynamics run CONFIG` creates it\)$/);
    expect((await cli(['runs', 'frobnicate'])).err).toBe('dynamics: unknown command `runs frobnicate` (see `dynamics --help`)');
    const help = await cli(['runs']);
    expect(help.code).toBe(2);
    expect(help.out).toMatch(/^ {2}export\s+a run's metrics/m);
  });
});
