import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTrustedUrl, mainWindowOptions, rendererEntryUrl } from '../../../src/main/app/window-options';

describe('main window options', () => {
  it('isolates the renderer from Node', () => {
    const prefs = mainWindowOptions('/app/out/preload/index.cjs').webPreferences!;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      preload: '/app/out/preload/index.cjs',
    });
  });
});

describe('isTrustedUrl', () => {
  const rendererDir = path.resolve('/app/out/renderer');
  const trusted = { rendererDir };

  it('accepts files inside the built renderer', () => {
    expect(isTrustedUrl(pathToFileURL(path.join(rendererDir, 'index.html')).href, trusted)).toBe(true);
    expect(isTrustedUrl(`${pathToFileURL(path.join(rendererDir, 'index.html')).href}#/runs`, trusted)).toBe(true);
  });

  it('refuses other files, other schemes and garbage', () => {
    for (const url of [
      pathToFileURL('/etc/passwd').href,
      pathToFileURL('/app/out/renderer-evil/index.html').href,
      `${pathToFileURL(rendererDir).href}/../preload/index.cjs`,
      'https://example.com/',
      'http://127.0.0.1:5173/',
      'javascript:alert(1)',
      'not a url',
      undefined,
    ]) {
      expect(isTrustedUrl(url, trusted), String(url)).toBe(false);
    }
  });

  it('accepts the dev server origin only while it is configured', () => {
    const dev = { rendererDir, devServerUrl: 'http://localhost:5173' };
    expect(isTrustedUrl('http://localhost:5173/#/runs', dev)).toBe(true);
    expect(isTrustedUrl('http://localhost:5174/', dev)).toBe(false);
    expect(rendererEntryUrl(dev)).toBe('http://localhost:5173');
    expect(rendererEntryUrl(trusted)).toBe(pathToFileURL(path.join(rendererDir, 'index.html')).href);
  });
});
