// The main window's options and the rules for what its page may do: which URLs are ours, where it
// may navigate, what a window.open does, which permissions it gets. Pure data and functions (Electron
// only as types), so the security settings and the handlers themselves are tested without Electron.
import type { BrowserWindowConstructorOptions, HandlerDetails, WindowOpenHandlerResponse } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1360,
    height: 880,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'DynaMiCS Studio',
    backgroundColor: '#111418',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

export interface TrustedOrigins {
  /** The folder of the built renderer, loaded over file://. */
  rendererDir: string;
  /** The dev server's URL during `electron-vite dev`, if any. */
  devServerUrl?: string;
}

/**
 * Whether a frame URL is our own renderer: a file inside the built renderer folder, or the dev
 * server's origin. IPC from any other frame is refused.
 */
export function isTrustedUrl(url: string | undefined, trusted: TrustedOrigins): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'file:') {
    let file: string;
    try {
      file = path.resolve(fileURLToPath(parsed));
    } catch {
      return false;
    }
    const root = path.resolve(trusted.rendererDir);
    return file.startsWith(root + path.sep);
  }
  if (trusted.devServerUrl) {
    const dev = new URL(trusted.devServerUrl);
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.origin === dev.origin;
  }
  return false;
}

/**
 * The dev server URL to trust: only in a development build (`electron-vite dev`) of an app that is
 * not packaged, and only an http(s) address on this machine. Anywhere else ELECTRON_RENDERER_URL
 * is ignored: in a shipped app it would let whoever sets the environment load any page with the
 * preload's API.
 */
export function devServerUrlFor(options: { development: boolean; packaged: boolean; url: string | undefined }): string | undefined {
  if (!options.development || options.packaged || !options.url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  if (!['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname)) return undefined;
  return options.url;
}

/** What Electron hands a navigation handler: an event that can be cancelled. */
export interface CancellableEvent {
  preventDefault(): void;
}

/** will-navigate / will-redirect / will-frame-navigate: our renderer's pages only. */
export function navigationGuard(trusted: TrustedOrigins): (event: CancellableEvent, url: string) => void {
  return (event, url) => {
    if (!isTrustedUrl(url, trusted)) event.preventDefault();
  };
}

/**
 * window.open and target=_blank: never a new app window. An https link (documentation) opens in
 * the user's browser; anything else (file:, javascript:, http:, custom schemes) goes nowhere.
 */
export function windowOpenHandler(openExternal: (url: string) => void): (details: Pick<HandlerDetails, 'url'>) => WindowOpenHandlerResponse {
  return ({ url }) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol === 'https:' && parsed.username === '' && parsed.password === '') openExternal(parsed.href);
    return { action: 'deny' };
  };
}

/** No page of ours needs a camera, notifications or any other permission: every request is refused. */
export function denyPermissionRequest(_contents: unknown, _permission: string, callback: (granted: boolean) => void): void {
  callback(false);
}

/** Permission checks (asked without a prompt) are refused too. */
export function denyPermissionCheck(): boolean {
  return false;
}

export function rendererEntryUrl(trusted: TrustedOrigins): string {
  return trusted.devServerUrl ?? pathToFileURL(path.join(trusted.rendererDir, 'index.html')).href;
}
