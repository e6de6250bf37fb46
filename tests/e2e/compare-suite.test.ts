// A baseline suite run from the CLI (`dynamics run --suite`, real trainer processes on a tiny
// model) into the data folder of a running `dynamics serve`, then looked at in real Chromium: the
// runs table groups the suite under its experiment with its marks, the outcome map places every
// scored run and a click on a dot of the canvas opens that run, and comparing the suite draws the
// mixtures overlaid per source from the stored decisions. Screenshots go to test-results/e2e.
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { dataLayout } from '../../src/main/paths';
import { Store } from '../../src/main/store/index';
import type { RunSummary } from '../../src/shared/runs';
import { tempDir } from '../helpers/temp';
import { writeTinyCorpora, writeTinyModel } from '../main/runner/tiny-fixtures';
import { launchBrowser, openApp, repoRoot, screenshot, startServe, type ServeProcess } from './harness';

/** The built CLI, as a user runs it, on the same data folder as the server. */
function cli(args: string[], home: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'dynamics.js'), ...args], { env: { ...process.env, DYNAMICS_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('a suite from the CLI, compared at a glance in the browser', () => {
  const dir = tempDir('dynamics-e2e-suite-');
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let suiteIds: number[] = [];
  let runs: RunSummary[] = [];
  const consoleErrors: string[] = [];
  const tid = (id: string) => page.getByTestId(id);

  beforeAll(async () => {
    writeTinyModel(path.join(dir, 'tiny-model'));
    writeTinyCorpora(path.join(dir, 'corpora'), ['code', 'email', 'licenses', 'dictionary'], { train: 16, eval: 4, test: 4 });
    const config = path.join(dir, 'suite.yaml');
    copyFileSync(path.join(repoRoot, 'tests', 'fixtures', 'runner', 'tiny-run.yaml'), config);
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace('name: tiny', 'name: tiny suite').replace('steps: 24', 'steps: 8').replace('steps: [0, 8, 16]', 'steps: [0, 4]').replace('regularBatches: 4', 'regularBatches: 2'),
    );
    serve = await startServe();
    // A run on its own beside the suite, so the table has something that is not grouped.
    const alone = path.join(dir, 'alone.yaml');
    writeFileSync(alone, readFileSync(config, 'utf8').replace('name: tiny suite', 'name: alone').replace('learningRate: 0.003', 'learningRate: 0.002'));
    const single = await cli(['run', alone, '--threads', '1'], serve.dataDir);
    expect(single.code, single.err).toBe(0);
    const suite = await cli(['run', config, '--suite', '--threads', '1'], serve.dataDir);
    expect(suite.code, suite.err).toBe(0);
    suiteIds = suite.out.split('\n')[0]!.split(' ').map(Number);
    expect(suiteIds).toHaveLength(11);
    const store = Store.open(dataLayout(serve.dataDir).database, { appVersion: 'e2e' });
    runs = store.reader.list();
    store.close();

    browser = await launchBrowser();
    page = await openApp(browser, serve, consoleErrors);
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  const byId = (id: number) => runs.find((r) => r.id === id)!;

  it('groups the suite\'s runs under their experiment, its DynaMiCS run and best feasible fixed run marked', async () => {
    await tid('nav-runs').click();
    const key = byId(suiteIds[0]!).suite!.key;
    const head = tid(`suite-group-${key}`);
    await head.waitFor();
    expect(await head.getAttribute('data-size')).toBe('11');
    expect(await head.textContent()).toContain('Suite · tiny suite');
    // The suite's rows follow its heading, in the suite's order; the lone run is not in it.
    const rows = await page.locator('[data-testid="runs-table"] tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-testid')));
    const at = rows.indexOf(`suite-group-${key}`);
    expect(rows.slice(at + 1, at + 12)).toEqual(suiteIds.map((id) => `run-row-${id}`));
    expect(rows).toContain(`run-row-${runs.find((r) => r.name === 'alone')!.id}`);
    expect(await tid(`run-mark-${suiteIds[0]}`).textContent()).toBe('DynaMiCS');
    // The best feasible fixed run, as the store scored them.
    const fixed = suiteIds.slice(1).map(byId).filter((r) => r.feasible === true && r.targetGain !== null);
    const best = fixed.reduce<RunSummary | null>((b, r) => (!b || r.targetGain! > b.targetGain! ? r : b), null);
    if (best) expect(await tid(`run-mark-${best.id}`).textContent()).toBe('best fixed');
    else expect(await head.textContent()).toContain('no feasible fixed run yet');
    await screenshot(page, 'suite-01-runs-grouped');
  });

  it('draws the outcome map of every run shown and opens a run from a click on its dot', async () => {
    const map = tid('runs-outcome-map');
    await map.scrollIntoViewIfNeeded();
    await page.locator('[data-testid="runs-outcome-map"][data-ready="true"]').waitFor();
    const scored = runs.filter((r) => r.targetGain !== null && r.maxViolation !== null);
    expect(await page.locator('[data-testid^="runs-outcome-map-dot-"]').count()).toBe(scored.length);
    await page.locator('[data-testid="runs-outcome-map"] canvas').first().scrollIntoViewIfNeeded();
    await screenshot(page, 'suite-02-outcome-map');
    // Hover the DynaMiCS run's dot: its tooltip names it; a click opens it.
    const dyn = suiteIds[0]!;
    const dot = tid(`runs-outcome-map-dot-${dyn}`);
    const x = Number(await dot.getAttribute('data-x'));
    const y = Number(await dot.getAttribute('data-y'));
    const box = (await page.locator('[data-testid="runs-outcome-map"] .chart-canvas').boundingBox())!;
    await page.mouse.move(box.x + x, box.y + y);
    await expect.poll(() => page.locator('[data-testid="runs-outcome-map"]').textContent()).toContain(`#${dyn} tiny suite`);
    await page.mouse.click(box.x + x, box.y + y);
    await page.waitForURL(new RegExp(`#/runs/${dyn}$`));
    await tid('run-view').waitFor();
  });

  it('compares the suite: the mixtures overlaid per source from the stored decisions, and the outcome map', async () => {
    await tid('nav-runs').click();
    const key = byId(suiteIds[0]!).suite!.key;
    await tid(`suite-compare-${key}`).click();
    await page.locator('[data-testid="compare-chart"][data-ready="true"]').waitFor();
    // Runs that trained have decisions; a baseline that shares a mixture with an earlier one was not trained again.
    const store = Store.open(dataLayout(serve.dataDir).database, { appVersion: 'e2e' });
    const withDecisions = suiteIds.filter((id) => store.reader.decisions(id).length > 0);
    const dynDecisions = store.reader.decisions(suiteIds[0]!).map((d) => d.step);
    store.close();
    expect(dynDecisions).toEqual([0, 4]);
    for (const source of ['code', 'email', 'licenses']) {
      const card = tid(`compare-overlay-${source}`);
      await card.scrollIntoViewIfNeeded();
      const label = card.locator('[role="img"]');
      await label.waitFor();
      const text = (await label.getAttribute('aria-label'))!;
      expect(text).toContain(`Share of batches from ${source} over step, ${withDecisions.length} runs overlaid`);
      expect(text).toContain(`#${suiteIds[0]} dynamics: 2 decisions`);
      await card.locator('canvas').first().waitFor();
    }
    await tid('compare-overlay-code').scrollIntoViewIfNeeded();
    await screenshot(page, 'suite-03-compare-overlay');
    await tid('compare-mixture-view').locator('input[value="runs"]').check({ force: true });
    await tid(`compare-mixture-${suiteIds[0]}`).waitFor();
    await tid('compare-mixture-view').locator('input[value="overlay"]').check({ force: true });

    const map = page.locator('[data-testid="compare-outcome-map"][data-ready="true"]');
    await tid('compare-outcome-map').scrollIntoViewIfNeeded();
    await map.waitFor();
    await screenshot(page, 'suite-04-compare-outcome-map');
    const target = suiteIds.find((id) => id !== suiteIds[0] && byId(id).targetGain !== null && !/same mixture/.test(byId(id).statusReason ?? ''))!;
    const dot = tid(`compare-outcome-map-dot-${target}`);
    const box = (await page.locator('[data-testid="compare-outcome-map"] .chart-canvas').boundingBox())!;
    await page.mouse.click(box.x + Number(await dot.getAttribute('data-x')), box.y + Number(await dot.getAttribute('data-y')));
    await page.waitForURL(/#\/runs\/\d+$/);
    // The dot clicked is the run's, or a twin baseline's drawn on the same spot (same mixture, same score).
    const opened = Number(/#\/runs\/(\d+)$/.exec(page.url())![1]);
    expect([byId(opened).maxViolation, byId(opened).targetGain]).toEqual([byId(target).maxViolation, byId(target).targetGain]);
    expect(consoleErrors).toEqual([]);
  });
});
