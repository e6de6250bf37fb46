// `dynamics run` and `dynamics resume` end to end through the CLI entry, on a tiny model and small
// corpora, with real trainer processes: the run id first, progress on stderr, the report tables
// on stdout, the JSON report with the full history, every row in the store and checkpoints in the
// run's folder; Ctrl-C pauses and `dynamics resume` continues; broken configs answered with one
// sentence and exit 2.
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { probeExecutionProviders } from '../../../src/main/engine/runtime/ort';
import { REPORT_FORMAT, type ReportFile } from '../../../src/main/runner/sink';
import { Store } from '../../../src/main/store/index';
import { tempDir } from '../../helpers/temp';
import { writeTinyCorpora, writeTinyModel } from '../runner/tiny-fixtures';
import { runCli } from './helpers';

const dir = tempDir('dynamics-cli-run-');
const home = path.join(dir, 'home');
const configFile = path.join(dir, 'tiny-run.yaml');

/** Runs the CLI; `interrupts` Ctrl-Cs arrive as soon as it waits for one. */
const run = (argv: string[], interrupts = 0) => runCli(argv, { home, interrupts });

beforeAll(() => {
  writeTinyModel(path.join(dir, 'tiny-model'));
  writeTinyCorpora(path.join(dir, 'corpora'), ['code', 'email', 'licenses', 'dictionary'], { train: 16, eval: 4, test: 4 });
  copyFileSync(path.join(__dirname, '../../fixtures/runner/tiny-run.yaml'), configFile);
});

describe('dynamics run', () => {
  it('prints the run id first, trains in a trainer process, prints the report tables and stores everything', async () => {
    const reportFile = path.join(dir, 'report.json');
    const r = await run(['run', configFile, '--report', reportFile, '--threads', '1']);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const id = Number(r.out.split('\n')[0]);
    expect(r.out.split('\n')[0]).toMatch(/^\d+$/);
    // Progress and per-decision lines go to stderr; the device is named with its reason.
    expect(r.err).toContain('device: cpu (the CPU was requested)');
    expect(r.err).toMatch(/^(training|probing|evaluating)\s+\[[#-]{20}\] +\d+% {2}step\s+\d+\/24 {2}[\d,]+ tok\/s {2}elapsed \d+:\d\d {2}ETA (\d+:\d\d|--:--)$/m);
    expect(r.err).toMatch(/step 0: mixture code \d\.\d\d · email \d\.\d\d · licenses \d\.\d\d \((feasible|infeasible), for 8 steps\)/);
    expect(r.err).toMatch(/step 24: eval code \d+\.\d{3} · email/);
    // The report: targets, constraints, feasibility, cost and wall time per phase.
    expect(r.out).toMatch(/^target\s+base test ppl\s+test ppl\s+ppl reduction$/m);
    expect(r.out).toMatch(/^code\s+\d+\.\d\d\s+/m);
    expect(r.out).toMatch(/geometric mean target ppl reduction: -?\d+\.\d%/);
    expect(r.out).toMatch(/^constraint\s+reference\s+eval loss/m);
    expect(r.out).toMatch(/^email\s+\d+\.\d{4}/m);
    expect(r.out).toMatch(/feasible: (yes|no) · max violation -?\d+\.\d{4}/);
    expect(r.out).toMatch(/cost: \d+\.\d\d× one fixed-mixture run/);
    expect(r.out).toMatch(/wall time: training \d+\.\d s · probe training \d+\.\d s · probe eval/);
    expect(r.out).toContain(`report and history: ${reportFile}`);

    const doc = JSON.parse(readFileSync(reportFile, 'utf8')) as ReportFile;
    expect(doc.format).toBe(REPORT_FORMAT);
    expect(doc.device.device).toBe('cpu');
    expect(doc.config.name).toBe('tiny');
    if (doc.outcome.kind !== 'single') throw new Error('expected a single run');
    const h = doc.outcome.report.history;
    expect(h.decisions.map((d) => d.step)).toEqual([0, 8, 16]);
    expect(h.decisions[0]!.slopes).toHaveLength(4);
    expect(h.evals.map((e) => e.step)).toEqual([0, 8, 16, 24]);
    expect(h.train.length).toBeGreaterThan(0);

    // The run is in the data directory's store; its checkpoints and own report in runs/ID.
    const store = Store.open(path.join(home, 'dynamics.db'), { appVersion: 'test' });
    try {
      expect(store.reader.get(id)).toMatchObject({ status: 'completed', name: 'tiny', strategy: 'dynamics', device: 'cpu', lastStep: 24 });
      expect(store.reader.checkpoints(id).map((c) => c.step)).toEqual([8, 16, 24]);
      expect(store.reader.decisions(id).map((d) => d.step)).toEqual([0, 8, 16]);
    } finally {
      store.close();
    }
    const ckpts = readdirSync(path.join(home, 'runs', String(id), 'checkpoints'));
    expect(ckpts.sort()).toEqual(['step-00000008.ckpt', 'step-00000016.ckpt', 'step-00000024.ckpt']);
    expect(readdirSync(path.join(home, 'runs', String(id))).sort()).toEqual(['checkpoints', 'report.json']);
  }, 180_000);

  it('answers a broken config with one sentence naming the place, exit 2', async () => {
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(configFile, 'utf8').replace('steps: 24', 'steps: -3'));
    const r = await run(['run', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^dynamics: invalid bad\.yaml: training\.steps must be at least 1 \(got -3\)$/);
    expect(r.err.split('\n')).toHaveLength(1);

    const syntax = path.join(dir, 'syntax.json');
    writeFileSync(syntax, '{\n  "name": "x",\n  "model": {\n}}}');
    const s = await run(['run', syntax]);
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/^dynamics: .*syntax\.json:4:\d+ is not valid JSON/);

    const missing = path.join(dir, 'missing-data.yaml');
    writeFileSync(missing, readFileSync(configFile, 'utf8').replace('dataset: corpora/email }', 'dataset: corpora/nowhere }'));
    const m = await run(['run', missing]);
    expect(m.code).toBe(2);
    // Loading messages come first; the refusal is the last line.
    // The run was stored (its id printed first), and failed in its trainer with the sentence, last.
    expect(m.out).toMatch(/^\d+$/);
    expect(m.err.split('\n').at(-1)).toMatch(/^dynamics: sources\[1\]\.dataset: dataset "corpora\/nowhere" is neither an imported dataset, a bundled corpus \(bundled:NAME\), nor a file or folder/);
    expect(m.err).not.toMatch(/\n\s+at /);

    expect((await run(['run'])).err).toBe('dynamics: `dynamics run` needs a CONFIG file (JSON or YAML)');
    expect((await run(['run', configFile, '--options', 'directional,magic'])).err).toBe(
      'dynamics: --options: "magic" is not a controller option (directional, trust-region, chance, calibration, fallback, backtracking, or "paper-exact" for none)',
    );
    expect((await run(['run', path.join(dir, 'nope.yaml')])).err).toMatch(/^dynamics: cannot read .*nope\.yaml: no such file$/);
    expect(existsSync(path.join(home, 'runs'))).toBe(true);
  }, 180_000);

  it('pauses on Ctrl-C (exit 130), continues with `dynamics resume`, and answers a device it cannot use in one sentence', async () => {
    // --options replaces the config's controller options; the stored run holds the result.
    const r = await run(['run', configFile, '--threads', '1', '--options', 'directional,calibration'], 1);
    expect(r.code).toBe(130);
    const id = Number(r.out.split('\n')[0]);
    const store = Store.open(path.join(home, 'dynamics.db'), { appVersion: 'test' });
    try {
      const bp = (store.reader.get(id).config as { beyondPaper: Record<string, { enabled?: boolean; kind?: string }> }).beyondPaper;
      expect([bp.localSlopes!.enabled, bp.calibration!.enabled, bp.noiseAwareMargin!.enabled, bp.progressFallback!.enabled, bp.smoothing!.kind]).toEqual([true, true, false, false, 'none']);
    } finally {
      store.close();
    }
    expect(r.err).toContain('pausing at the next safe point (a checkpoint is saved; press Ctrl-C again to stop at once)');
    expect(r.err.split('\n').at(-1)).toBe(`dynamics: run ${id} is paused (paused before training began); continue it with \`dynamics resume ${id}\``);
    const resumed = await run(['resume', String(id), '--threads', '1']);
    expect(resumed.err).not.toMatch(/internal error/);
    expect(resumed.code).toBe(0);
    expect(resumed.out.split('\n')[0]).toBe(String(id));
    expect(resumed.out).toMatch(/geometric mean target ppl reduction: -?\d+\.\d%/);
    expect((await run(['resume', String(id)])).err).toBe(`dynamics: run ${id} is completed; only a run that is paused, interrupted or failed can be resumed`);
    expect((await run(['resume', '999'])).err).toBe('dynamics: there is no run 999');
    expect((await run(['resume', 'x1'])).err).toBe('dynamics: "x1" is not a run id (a positive whole number, as `dynamics runs list` shows)');

    const cuda = path.join(dir, 'cuda.yaml');
    writeFileSync(cuda, readFileSync(configFile, 'utf8').replace('device: cpu', 'device: cuda').replace('steps: 24', 'steps: 8').replace('steps: [0, 8, 16]', 'steps: [0]'));
    const c = await run(['run', cuda, '--threads', '1']);
    const usable = (await probeExecutionProviders()).find((p) => p.name === 'cuda')?.usable === true;
    if (usable) {
      expect(c.code).toBe(0);
      expect(c.err).toMatch(/^device: cuda \(/m);
    } else {
      expect(c.code).toBe(2);
      expect(c.err.split('\n').at(-1)).toMatch(/^dynamics: CUDA was requested but cannot be used: .+\.$/);
    }
  }, 180_000);
});

describe('dynamics run --suite', () => {
  it('runs DynaMiCS and the fixed baselines side by side', async () => {
    const short = path.join(dir, 'short.yaml');
    writeFileSync(
      short,
      readFileSync(configFile, 'utf8')
        .replace('name: tiny', 'name: tiny suite')
        .replace('steps: 24', 'steps: 8')
        .replace('steps: [0, 8, 16]', 'steps: [0, 4]')
        .replace('regularBatches: 4', 'regularBatches: 2'),
    );
    const reportFile = path.join(dir, 'suite.json');
    const r = await run(['run', short, '--suite', '--report', reportFile, '--threads', '1']);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    // Eleven runs stored, one per strategy, their ids first on one line.
    expect(r.out.split('\n')[0]).toMatch(/^\d+( \d+){10}$/);
    // One row per strategy; proportional equals uniform here (one target source), so those rows reuse its runs.
    expect(r.out).toMatch(/^run\s+feasible\s+target ppl red\.\s+max violation\s+cost\s+selected step$/m);
    expect(r.out).toMatch(/^dynamics\s+(yes|no)\s+-?\d+\.\d%/m);
    for (const m of ['0', '0.2', '0.5', '0.8', '1']) {
      expect(r.out).toMatch(new RegExp(`^uniform m=${m.replace('.', '\\.')}\\s+(yes|no)\\s+-?\\d+\\.\\d%\\s+-?\\d+\\.\\d{4}\\s+1\\.00×`, 'm'));
      expect(r.out).toMatch(new RegExp(`^proportional m=${m.replace('.', '\\.')}\\s+.*same mixture as uniform m=${m.replace('.', '\\.')}$`, 'm'));
    }
    expect(r.out).toMatch(/best fixed baseline: .* · fixed runs feasible: \d+ of 10/);
    expect(r.err).toMatch(/^\[dynamics\] step 0: mixture/m);
    expect(r.err).toMatch(/^\[uniform m=0\.5\] step 0: mixture code 0\.50 · email 0\.25 · licenses 0\.25 \(fixed, for 8 steps\)$/m);
    const doc = JSON.parse(readFileSync(reportFile, 'utf8')) as ReportFile;
    if (doc.outcome.kind !== 'suite') throw new Error('expected a suite');
    expect(doc.outcome.suite.rows).toHaveLength(11);
    expect(Object.keys(doc.outcome.suite.runs).sort()).toEqual(['dynamics', 'uniform m=0', 'uniform m=0.2', 'uniform m=0.5', 'uniform m=0.8', 'uniform m=1']);
    expect(doc.outcome.suite.runs.dynamics!.history.decisions).toHaveLength(2);
  }, 600_000);
});
