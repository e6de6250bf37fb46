// The browser smoke test: the served UI in real Chromium shows system info from the real backend.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, screenshot, startServe, type ServeProcess } from './harness';

describe('served UI in Chromium', () => {
  let serve: ServeProcess;
  let browser: Browser;

  beforeAll(async () => {
    serve = await startServe();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
  });

  it('shows system info from the backend and keeps the token out of the address bar', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(serve.openUrl);
    await page.getByRole('link', { name: 'System' }).click();
    await page.getByTestId('system-info').waitFor();
    expect(await page.getByTestId('ort-version').textContent()).toBe('1.29.0');
    expect(await page.getByTestId('provider-cpu').textContent()).toContain('CPU usable');
    expect(await page.getByTestId('provider-cuda').textContent()).toMatch(/CUDA (usable|unavailable)/);
    expect(await page.getByTestId('status-bar').textContent()).toContain('ORT 1.29.0');
    expect(page.url()).not.toContain('token=');
    const file = await screenshot(page, 'shell-system');
    expect(existsSync(file)).toBe(true);

    for (const name of ['Models', 'Datasets', 'Experiment', 'Runs', 'Try']) {
      await page.getByRole('link', { name }).click();
      await page.getByRole('heading', { level: 1, name }).waitFor();
    }
    await screenshot(page, 'shell-empty-try');
    expect(consoleErrors).toEqual([]);
  });

  it('keeps working after a reload (token kept in the session, not the URL)', async () => {
    const page = await browser.newPage();
    await page.goto(serve.openUrl);
    await page.getByTestId('status-bar').getByText('ORT 1.29.0').waitFor();
    await page.reload();
    await page.getByTestId('status-bar').getByText('ORT 1.29.0').waitFor();
  });

  it('refuses an API call without the token (401)', async () => {
    const res = await fetch(`${serve.url}/api/call/system.info`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    const page = await browser.newPage();
    await page.goto(serve.url);
    await page.getByText('open the address that `dynamics serve` printed').waitFor();
  });
});
