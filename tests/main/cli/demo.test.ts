// `dynamics demo --quick` end to end, for real: the bundled base model and corpora, trainer
// processes started by the run supervisor, a fresh SQLite store. Every run of the plan completes
// and is stored (tagged "demo", scored, DynaMiCS with its probed decisions), and the table, the
// verdict and the way to open the runs are printed. Also the pure parts: the plan, the table.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_FILES, DEMO_TAG, demoPlan } from '../../../src/main/cli/commands/demo';
import { resultsTable, verdictLines, type DemoRow } from '../../../src/main/cli/commands/demo-table';
import { resourcesDir } from '../../../src/main/paths';
import { loadRunConfigFile } from '../../../src/main/runner/config-file';
import { Store } from '../../../src/main/store/index';
import { tempDir } from '../../helpers/temp';
import { runCli } from './helpers';

const home = tempDir('dynamics-demo-');

const run = (argv: string[]) => runCli(argv, { home });

const quickConfig = loadRunConfigFile(path.join(resourcesDir(), 'demo', DEMO_FILES.quick));

describe('dynamics demo --quick', () => {
  it('trains every run of the plan, stores them and prints the table', async () => {
    const plan = demoPlan(quickConfig, true);
    const r = await run(['demo', '--quick']);
    expect(r.err).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^run\s+method\s+target ppl reduction\s+feasible\s+max violation\s+cost\s+wall\s+mixture/m);
    for (const p of plan) expect(r.out).toMatch(new RegExp(`^\\s*\\d+\\s+${p.label.replace(/[()]/g, '\\$&')}\\s+(-?\\d+\\.\\d%)\\s+(yes|no)\\s+-?\\d+\\.\\d{4}\\s+\\d+\\.\\d\\d×\\s+\\d+:\\d\\d`, 'm'));
    expect(r.out).toMatch(/fixed mixtures feasible: \d of \d/);
    expect(r.out).toContain('npx dynamics serve');
    expect(r.err).toMatch(/device: cpu/);

    const store = Store.open(path.join(home, 'dynamics.db'), { appVersion: 'test' });
    try {
      const runs = store.reader.list().sort((a, b) => a.id - b.id);
      expect(runs).toHaveLength(plan.length);
      for (const [k, s] of runs.entries()) {
        expect(s.status).toBe('completed');
        expect(s.tags).toContain(DEMO_TAG);
        expect(s.strategy).toBe(plan[k]!.adaptive ? 'dynamics' : plan[k]!.label);
        expect(s.feasible).not.toBeNull();
        expect(Number.isFinite(s.costMultiple)).toBe(true);
      }
      const dyn = runs[0]!;
      const decisions = store.reader.decisions(dyn.id);
      expect(decisions.length).toBeGreaterThan(1);
      expect(dyn.costMultiple!).toBeGreaterThan(1);
      for (const s of runs.slice(1)) if (!plan[runs.indexOf(s)]!.adaptive) expect(s.costMultiple!).toBeCloseTo(1, 6);
    } finally {
      store.close();
    }
  }, 600_000);

  it('refuses an unknown option in one sentence', async () => {
    const r = await run(['demo', '--fast']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('dynamics: unknown option --fast for `dynamics demo` (see `dynamics demo --help`)');
  });
});

describe('the demo plan and table', () => {
  it('runs DynaMiCS first, then the fixed grid (two masses in quick mode)', () => {
    const full = demoPlan(quickConfig, false);
    expect(full[0]!.label).toBe('DynaMiCS');
    expect(full.filter((r) => !r.adaptive).map((r) => r.label)).toEqual(['uniform m=0', 'uniform m=0.2', 'uniform m=0.5', 'uniform m=0.8', 'uniform m=1']);
    expect(demoPlan(quickConfig, true).filter((r) => !r.adaptive).map((r) => r.label)).toEqual(['uniform m=0.5', 'uniform m=1']);
    for (const r of full) expect(r.config.sources).toEqual(quickConfig.sources);
  });

  it('names the best feasible fixed mixture and compares DynaMiCS with it', () => {
    const row = (over: Partial<DemoRow>): DemoRow => ({
      runId: 1, label: 'x', adaptive: false, status: 'completed', feasible: true, targetGain: 0.05, maxViolation: -0.01, costMultiple: 1, wallSeconds: 61, weights: [0.5, 0.5], ...over,
    });
    const rows = [
      row({ runId: 1, label: 'DynaMiCS', adaptive: true, targetGain: 0.08, costMultiple: 2.4 }),
      row({ runId: 2, label: 'uniform m=0.5', targetGain: 0.03 }),
      row({ runId: 3, label: 'uniform m=1', feasible: false, targetGain: 0, maxViolation: 0.02, weights: [1, 0] }),
    ];
    const table = resultsTable(rows, ['code', 'email']);
    expect(table[0]).toMatch(/^run\s+method/);
    expect(table[1]).toMatch(/^\s*1\s+DynaMiCS\s+8\.0%\s+yes\s+-0\.0100\s+2\.40×\s+1:01\s+code 0\.50 · email 0\.50$/);
    expect(table[3]).toMatch(/uniform m=1\s+0\.0%\s+no\s+0\.0200\s+1\.00×\s+1:01\s+code 1\.00$/);
    expect(verdictLines(rows)).toEqual([
      'fixed mixtures feasible: 1 of 2; best feasible fixed mixture: uniform m=0.5 (3.0%)',
      'DynaMiCS: feasible, 8.0% target perplexity reduction vs 3.0% for the best fixed mixture, at 2.40× the cost of one fixed run',
    ]);
  });
});
