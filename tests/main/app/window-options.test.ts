// The main window's settings and the handlers that guard its pages, called as Electron calls them.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  denyPermissionCheck,
  denyPermissionRequest,
  devServerUrlFor,
  isTrustedUrl,
  mainWindowOptions,
  navigationGuard,
  rendererEntryUrl,
  windowOpenHandler,
  type TrustedOrigins,
} from '../../../src/main/app/window-options';

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

describe('the page guards, as installed on every web contents', () => {
  const rendererDir = path.resolve('/app/out/renderer');
  const trusted = { rendererDir };
  const ours = pathToFileURL(path.join(rendererDir, 'index.html')).href;

  /** A navigation event as Electron hands it over: cancelled or not. */
  const navigate = (url: string, origins: TrustedOrigins = trusted) => {
    let prevented = false;
    navigationGuard(origins)({ preventDefault: () => (prevented = true) }, url);
    return prevented ? 'blocked' : 'allowed';
  };

  it('lets the window navigate within our renderer only', () => {
    expect(navigate(`${ours}#/runs`)).toBe('allowed');
    for (const url of ['https://example.com/', 'http://127.0.0.1:5173/', pathToFileURL('/etc/passwd').href, 'data:text/html,<script>1</script>', 'javascript:alert(1)', 'devtools://x', '']) {
      expect(navigate(url), url).toBe('blocked');
    }
    expect(navigate('http://localhost:5173/', { rendererDir, devServerUrl: 'http://localhost:5173' })).toBe('allowed');
  });

  it('never opens a new app window; only https links go to the browser, without credentials', () => {
    const opened: string[] = [];
    const handler = windowOpenHandler((url) => opened.push(url));
    for (const url of ['https://example.com/docs', 'http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'mailto:a@b.c', 'https://user:pw@example.com/', 'not a url', ours]) {
      expect(handler({ url }), url).toEqual({ action: 'deny' });
    }
    expect(opened).toEqual(['https://example.com/docs']);
  });

  it('refuses every permission request and check', () => {
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'openExternal', 'fullscreen']) {
      let granted: boolean | undefined;
      denyPermissionRequest(null, permission, (g) => (granted = g));
      expect(granted, permission).toBe(false);
    }
    expect(denyPermissionCheck()).toBe(false);
  });

  it('trusts the dev server only in a development build that is not packaged, and only on this machine', () => {
    const url = 'http://localhost:5173';
    expect(devServerUrlFor({ development: true, packaged: false, url })).toBe(url);
    expect(devServerUrlFor({ development: false, packaged: false, url })).toBeUndefined();
    expect(devServerUrlFor({ development: true, packaged: true, url })).toBeUndefined();
    expect(devServerUrlFor({ development: false, packaged: true, url })).toBeUndefined();
    for (const other of ['https://evil.example/', 'file:///tmp/x.html', 'http://10.0.0.2:5173', 'not a url', undefined]) {
      expect(devServerUrlFor({ development: true, packaged: false, url: other }), String(other)).toBeUndefined();
    }
  });
});
