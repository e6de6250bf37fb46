// An external trainer's run in the browser: the built `dynamics serve`, a trainer speaking the
// controller protocol over HTTP (the tests' SyntheticTrainer behind the protocol client), and
// Chromium. Open while it trains, the run view follows it live (the external runs' events reach
// the UI's event stream like a local run's); once done it shows its curves, mixture over steps and
// decisions, with no pause or resume (its trainer owns those). Screenshots in test-results/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { parseRunConfig } from '../../src/shared/run-config';
import { CONTROLLER_PROTOCOL, type ControllerTask, type RegisterReply } from '../../src/shared/services/controller';
import { ControllerClient, drive, TrainerAnswerer } from '../helpers/controller-client';
import { convexConfig, convexTrainer } from '../main/runner/scenarios';
import { launchBrowser, openApp, screenshot, startServe, type ServeProcess } from './harness';

describe('an external trainer\'s run in the browser', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let page: Page;
  let client: ControllerClient;
  let reg: RegisterReply;
  let answerer: TrainerAnswerer;
  const consoleErrors: string[] = [];
  const tid = (id: string) => page.getByTestId(id);

  beforeAll(async () => {
    serve = await startServe();
    client = new ControllerClient(Number(new URL(serve.url).port), serve.token);
    const { model: _model, device: _device, ...rest } = convexConfig({ beyondPaper: {} as never });
    reg = await client.ok<RegisterReply>('register', {
      protocol: CONTROLLER_PROTOCOL,
      config: { ...rest, name: 'external synthetic', beyondPaper: {}, model: { name: 'synthetic' } },
      trainer: { name: 'synthetic', detail: 'over HTTP' },
    });
    answerer = new TrainerAnswerer(convexTrainer(parseRunConfig(reg.config)));
    browser = await launchBrowser();
    page = await openApp(browser, serve, consoleErrors);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('follows the run live while its trainer trains, then shows it complete', async () => {
    // Past the first decisions and the evaluation at step 32.
    const task: ControllerTask = await drive(client, reg, answerer, 20);
    expect(task.kind).not.toBe('finished');
    await page.goto(`${serve.url}/#/runs/${reg.runId}`);
    await expect.poll(() => tid('run-status').textContent()).toMatch(/running/i);
    await expect.poll(() => tid('live-device').textContent()).toMatch(/external.*synthetic \(over HTTP\)/);
    expect(await tid('run-pause').count()).toBe(0);
    await screenshot(page, 'external-01-live');
    expect(await drive(client, reg, answerer)).toMatchObject({ kind: 'finished', status: 'completed' });
    // The completion reaches the open page through the event stream.
    await expect.poll(() => tid('run-status').textContent(), { timeout: 20_000 }).toMatch(/completed/i);
  });

  it('shows the curves, the mixture over steps and every decision', async () => {
    await page.reload();
    await tid('loss-charts').waitFor();
    for (const d of ['target', 'c1', 'c2']) await tid(`loss-chart-${d}`).waitFor();
    await tid('mixture-chart').locator('canvas').first().waitFor();
    const decisions = answerer.decisions.map((d) => d.step);
    expect(decisions.length).toBeGreaterThan(3);
    for (const step of decisions) await tid(`decision-step-${step}`).waitFor();
    expect(await tid('run-resume').count()).toBe(0);
    await tid('decisions').scrollIntoViewIfNeeded();
    await screenshot(page, 'external-02-complete');
    expect(consoleErrors).toEqual([]);
  });
});
