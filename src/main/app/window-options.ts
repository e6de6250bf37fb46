// The main window's options and the rules for what its page may do. Pure data and functions, so
// the security settings are unit-tested without Electron.
import type { BrowserWindowConstructorOptions } from 'electron';
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

export function rendererEntryUrl(trusted: TrustedOrigins): string {
  return trusted.devServerUrl ?? pathToFileURL(path.join(trusted.rendererDir, 'index.html')).href;
}
