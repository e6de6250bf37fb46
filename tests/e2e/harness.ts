// End-to-end harness: the built `dynamics serve` as a child process with its own data directory,
// and Debian's Chromium driven by playwright-core. Screenshots go to test-results/e2e/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const screenshotDir = path.join(repoRoot, 'test-results', 'e2e');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Chromium is not installed (Debian: apt-get install chromium); set CHROMIUM_PATH to use another');
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS, headless: true });
}

/** A wide page at the app (30 s timeouts), its console errors collected into `errors`. */
export async function openApp(browser: Browser, serve: ServeProcess, errors: string[], options: { acceptDownloads?: boolean } = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1360, height: 900 }, ...options });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.setDefaultTimeout(30_000);
  await page.goto(serve.openUrl);
  return page;
}

export interface ServeProcess {
  url: string;
  openUrl: string;
  token: string;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the built CLI's `serve` on a free port and waits for the address it prints. */
export async function startServe(dataDir?: string): Promise<ServeProcess> {
  if (!existsSync(path.join(repoRoot, 'out', 'main', 'cli.js')) || !existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html'))) {
    throw new Error('the app is not built: run `npm run build` (npm test does it first)');
  }
  const home = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'dynamics-e2e-'));
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'dynamics.js'), 'serve', '--port', '0'], {
    env: { ...process.env, DYNAMICS_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const openUrl = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start in time: ${stderr}`)), 30_000);
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /served at (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const u = new URL(openUrl);
  return {
    url: u.origin,
    openUrl,
    token: u.searchParams.get('token') ?? '',
    dataDir: home,
    child,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!dataDir) rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
