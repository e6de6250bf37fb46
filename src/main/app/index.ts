// The Electron main process: the composition root of the desktop app. It owns windows and IPC;
// training never runs here (ONNX Runtime blocks its thread), it runs in supervised child processes.
import { app, BrowserWindow, dialog, session, shell } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCore, type Core } from '../bootstrap';
import { appRoot } from '../paths';
import { ElectronDialog } from './dialog';
import { bindIpc, forwardEvents } from './ipc';
import { findSqliteBinding } from './native';
import { UtilityProcessLauncher } from './trainer-launcher';
import { defaultTrainerEntry } from '../runner/process-launcher';
import { isTrustedUrl, mainWindowOptions, rendererEntryUrl, type TrustedOrigins } from './window-options';

const here = path.dirname(fileURLToPath(import.meta.url));
const trusted: TrustedOrigins = {
  rendererDir: path.join(here, '..', 'renderer'),
  devServerUrl: process.env.ELECTRON_RENDERER_URL,
};

function hardenSessions(): void {
  // No page of ours needs a camera, notifications or any other permission.
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (!isTrustedUrl(url, trusted)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // Links to documentation open in the user's browser, never in a new app window.
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

function createWindow(core: Core): BrowserWindow {
  const win = new BrowserWindow(mainWindowOptions(path.join(here, '..', 'preload', 'index.cjs')));
  forwardEvents(core, win.webContents);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(rendererEntryUrl(trusted));
  return win;
}

app.enableSandbox();
app.whenReady().then(() => {
  hardenSessions();
  // The database driver must be the build for Electron's ABI; without it nothing can work.
  const binding = findSqliteBinding({ resourcesPath: process.resourcesPath, packaged: app.isPackaged, appRoot: appRoot() });
  if ('problem' in binding) {
    dialog.showErrorBox('DynaMiCS Studio cannot open its database', binding.problem);
    app.exit(1);
    return;
  }
  const core = createCore({
    dataDir: app.getPath('userData'),
    electronVersion: process.versions.electron ?? null,
    logError: (method, err) => console.error(`internal error in ${method}:`, err),
    sqliteNativeBinding: binding.path,
    nativeDialog: new ElectronDialog(),
    launcher: new UtilityProcessLauncher({ entry: defaultTrainerEntry(), sqliteNativeBinding: binding.path }),
  });
  bindIpc(core, trusted);
  createWindow(core);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow(core);
  });
  // Running trainers pause at their next safe point (a checkpoint) before the app goes away.
  let closing = false;
  app.on('before-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void core.close().finally(() => app.quit());
  });
}).catch((err: unknown) => {
  console.error(err);
  app.exit(1);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
