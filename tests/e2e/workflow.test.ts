// The whole workflow in real Chromium against `dynamics serve` (a child process, real backend,
// real SQLite, a tiny random-init Llama model): import the model and datasets (by path, by upload,
// and a broken file with its problem report), set up a 3-source / 4-domain experiment in the form,
// run it and watch the live view, run a fixed baseline, compare the two, re-solve a decision in the
// what-if panel, export CSV, and try the model. Every step saves a screenshot (test-results/e2e).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { writeTinyModel } from '../main/runner/tiny-fixtures';
import { tempDir } from '../helpers/temp';
import { launchBrowser, openApp, repoRoot, screenshot, startServe, type ServeProcess } from './harness';

/** `count` documents of a bundled corpus's train split, cut to `maxChars`, as one JSONL file. */
function corpusFile(dir: string, corpus: string, count: number, maxChars = 1200): string {
  const lines = readFileSync(path.join(repoRoot, 'resources', 'corpora', corpus, 'train.jsonl'), 'utf8').split('\n').filter((l) => l.length > 0);
  const file = path.join(dir, `${corpus}.jsonl`);
  writeFileSync(file, `${lines.slice(0, count).map((l) => JSON.stringify({ text: (JSON.parse(l) as { text: string }).text.slice(0, maxChars) })).join('\n')}\n`);
  return file;
}

describe('the DynaMiCS workflow in the browser', () => {
  const fixtures = tempDir('dynamics-e2e-fixtures-');
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  let dynamicsRun = 0;
  let baselineRun = 0;

  beforeAll(async () => {
    writeTinyModel(path.join(fixtures, 'tiny-model'));
    for (const c of ['code', 'email', 'licenses']) corpusFile(fixtures, c, 100);
    writeFileSync(path.join(fixtures, 'broken.jsonl'), `${JSON.stringify({ text: 'fine' })}\n{"text": "unterminated\n{"prompt": 1}\n`);
    serve = await startServe();
    browser = await launchBrowser();
    page = await openApp(browser, serve, consoleErrors, { acceptDownloads: true });
  });

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  const tid = (id: string) => page.getByTestId(id);

  it('imports a model folder and shows its architecture and memory estimate', async () => {
    await tid('nav-models').click();
    await tid('model-import-path-input').fill(path.join(fixtures, 'tiny-model'));
    await tid('model-import-name').fill('tiny');
    await tid('model-import').click();
    await tid('model-row-imported:1').click();
    await expect.poll(() => tid('model-architecture').textContent()).toMatch(/Llama/);
    expect(await tid('model-parameters').textContent()).toMatch(/149\.7K|149,664/);
    expect(await tid('model-memory-total').textContent()).toMatch(/[KMG]iB/);
    await screenshot(page, 'workflow-01-models');
  });

  it('imports datasets by path and by upload, previews them as the model sees them, and reports a broken file by line', async () => {
    await tid('nav-datasets').click();
    for (const name of ['code', 'email']) {
      await tid('dataset-import-path-input').fill(path.join(fixtures, `${name}.jsonl`));
      await tid('dataset-import-name').fill(name);
      await tid('dataset-import-tokenizer').selectOption({ label: 'tiny' });
      await tid('dataset-import').click();
      await tid(`dataset-row-${name}`).waitFor();
    }
    await tid('dataset-import-mode').locator('input[value="upload"]').check();
    await tid('dataset-import-file').setInputFiles(path.join(fixtures, 'licenses.jsonl'));
    await tid('dataset-import-name').fill('licenses');
    await tid('dataset-import').click();
    await tid('dataset-row-licenses').waitFor();
    await tid('dataset-row-licenses').click();
    expect(await tid('dataset-examples').textContent()).toBe('100');
    await tid('preview-model').selectOption({ label: 'tiny' });
    await tid('preview-example-0').locator('[data-trained="true"]').first().waitFor();
    await screenshot(page, 'workflow-02-dataset-preview');

    await tid('dataset-import-mode').locator('input[value="path"]').check();
    await tid('dataset-import-path-input').fill(path.join(fixtures, 'broken.jsonl'));
    await tid('dataset-import-name').fill('broken');
    await tid('dataset-import').click();
    await tid('dataset-import-error').waitFor();
    expect(await tid('dataset-import-error').textContent()).toMatch(/broken\.jsonl/);
    await tid('problem-line-2').waitFor();
    await tid('problem-line-3').waitFor();
    await screenshot(page, 'workflow-03-dataset-problems');
  });

  it('sets up a 3-source / 4-domain experiment with messages beside the fields', async () => {
    await tid('nav-experiment').click();
    await tid('experiment-form').waitFor();
    await tid('field-model.path').selectOption(path.join(fixtures, 'tiny-model'));
    // Sources and target/constraint domains from the imported datasets; a bundled corpus as the monitor.
    for (const [i, name] of ['code', 'email', 'licenses'].entries()) {
      await tid(`field-sources[${i}].id`).fill(name);
      await tid(`field-sources[${i}].dataset`).selectOption(name);
      await tid(`field-domains[${i}].id`).fill(name);
      await tid(`field-domains[${i}].dataset`).selectOption(name);
    }
    await tid('field-domains[0].role').selectOption('target');
    await tid('field-domains[1].role').selectOption('constraint');
    await tid('field-domains[2].role').selectOption('constraint');
    await tid('field-domains[3].dataset').selectOption('bundled:dictionary');
    await tid('field-domains[3].role').selectOption('monitor');
    // A mistake is reported beside its field, and goes away once fixed.
    await tid('field-training.steps').fill('0');
    await tid('error-training.steps').waitFor();
    expect(await tid('error-training.steps').textContent()).toMatch(/at least 1/);
    await screenshot(page, 'workflow-04-experiment-error');
    const fields: Record<string, string> = {
      'training.steps': '256', 'training.batchSize': '8', 'training.seqLength': '64', 'training.learningRate': '0.003',
      'evaluation.interval': '64', 'evaluation.regularBatches': '4', 'evaluation.probeBatches': '2', 'evaluation.testBatches': '2',
      'dynamics.probeCap': '8', 'model.adapter.rank': '4', name: 'tiny dynamics',
    };
    for (const [f, v] of Object.entries(fields)) await tid(`field-${f}`).fill(v);
    await tid('field-device').selectOption('cpu');
    await tid('field-dynamics.schedule.kind').selectOption('list');
    await tid('field-dynamics.schedule.steps').fill('0, 64, 128');
    await expect.poll(() => tid('experiment-problems').textContent(), { timeout: 30_000 }).toMatch(/Ready to run/);
    expect(await tid('error-training.steps').count()).toBe(0);
    await tid('plan-preview').waitFor();
    const download = page.waitForEvent('download');
    await tid('experiment-save-yaml').click();
    const saved = readFileSync((await (await download).path())!, 'utf8');
    expect(saved).toMatch(/steps: 256/);
    expect(saved).toMatch(/dataset: bundled:dictionary/);
    await screenshot(page, 'workflow-05-experiment-ready');
  });

  it('runs it and the live view follows progress, curves and decisions to the end', async () => {
    await tid('experiment-start').click();
    await tid('run-view').waitFor();
    dynamicsRun = Number(/#\/runs\/(\d+)/.exec(page.url())![1]);
    await tid('live-progress').waitFor();
    // The live view moves while the run trains: sample it until the run ends; it must have shown
    // several different steps while the status said running.
    const seen = new Set<number>();
    let shot = false;
    for (let i = 0; i < 1800; i++) {
      const status = (await tid('run-status').textContent()) ?? '';
      if (!/running/.test(status)) break;
      const step = Number((await tid('live-step').textContent())!.split('/')[0]!.replace(/\D/g, ''));
      seen.add(step);
      if (step > 0 && !shot) {
        await screenshot(page, 'workflow-06-run-live');
        shot = true;
      }
      await page.waitForTimeout(100);
    }
    expect([...seen].filter((s) => s > 0).length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => tid('run-status').textContent(), { timeout: 180_000 }).toMatch(/completed/);
    await tid('loss-chart-code').waitFor();
    await tid('mixture-chart').waitFor();
    await tid('decision-step-64').click();
    await tid('decision-heatmap').waitFor();
    await tid('decision-explanation').waitFor();
    await tid('run-report').waitFor();
    // Each decision's prediction was measured at the end of its horizon (steps 64, 128, 256).
    await tid('calibration-plot').waitFor();
    expect(await tid('calibration-row-code').locator('td').nth(1).textContent()).toBe('3');
    await screenshot(page, 'workflow-07-run-done');
  });

  it('runs a fixed-mixture baseline of the same setup', async () => {
    await tid('nav-experiment').click();
    await tid('field-strategy.kind').selectOption('fixed-uniform');
    await tid('field-strategy.targetMass').fill('0.5');
    await tid('field-name').fill('tiny uniform');
    await expect.poll(() => tid('experiment-problems').textContent(), { timeout: 30_000 }).toMatch(/Ready to run/);
    await tid('experiment-start').click();
    await tid('run-view').waitFor();
    await expect.poll(() => page.url()).not.toMatch(new RegExp(`/runs/${dynamicsRun}$`));
    baselineRun = Number(/#\/runs\/(\d+)/.exec(page.url())![1]);
    await expect.poll(() => tid('run-status').textContent(), { timeout: 180_000 }).toMatch(/completed/);
  });

  it('compares the two runs: overlaid curves, summary and only the config fields that differ; exports CSV', async () => {
    await tid('nav-runs').click();
    await tid(`run-row-${baselineRun}`).waitFor();
    await tid(`run-select-${dynamicsRun}`).check();
    await tid(`run-select-${baselineRun}`).check();
    const csvDownload = page.waitForEvent('download');
    await tid('export-csv').click();
    const csv = readFileSync((await (await csvDownload).path())!, 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe('run_id,run_name,strategy,step,tokens,wall_ms,kind,domain,value');
    expect(csv.some((l) => l.startsWith(`${dynamicsRun},tiny dynamics,dynamics,`))).toBe(true);
    expect(csv.some((l) => l.startsWith(`${baselineRun},tiny uniform,uniform m=0.5,`))).toBe(true);
    await screenshot(page, 'workflow-08-runs');
    await tid('runs-compare').click();
    await tid('compare-view').waitFor();
    await page.locator('[data-testid="compare-chart"][data-ready="true"]').waitFor();
    await tid(`summary-row-${dynamicsRun}`).waitFor();
    await tid('diff-row-strategy.kind').waitFor();
    expect(await tid('diff-row-training.steps').count()).toBe(0);
    await screenshot(page, 'workflow-09-compare');
  });

  it('re-solves a recorded decision in the what-if panel with a tighter margin', async () => {
    await page.goto(`${serve.url}/#/runs/${dynamicsRun}`);
    await tid('decision-step-64').click();
    await tid('decision-whatif').click();
    await tid('whatif-view').waitFor();
    await tid('whatif-status').waitFor();
    const recorded = await tid('whatif-recorded-weight-code').textContent();
    expect(await tid('whatif-weight-code').textContent()).toBe(recorded);
    await tid('whatif-margin').fill('5');
    await tid('whatif-margin').blur();
    await expect.poll(() => tid('whatif-status').textContent(), { timeout: 20_000 }).toMatch(/infeasible/i);
    await screenshot(page, 'workflow-10-whatif');
  });

  it('generates from the base model and from the run\'s adapter side by side', async () => {
    await tid('nav-try').click();
    await tid('try-model').selectOption('imported:1');
    await tid('try-adapter-run').selectOption(String(dynamicsRun));
    await tid('try-prompt').fill('function add(a, b) {');
    await tid('try-max-tokens').fill('16');
    await tid('try-generate').click();
    await tid('try-done-base').waitFor({ timeout: 60_000 });
    await tid('try-done-adapter').waitFor({ timeout: 60_000 });
    expect((await tid('try-output-base').textContent())!.length).toBeGreaterThan(0);
    await screenshot(page, 'workflow-11-try');
    expect(consoleErrors).toEqual([]);
  });
});
