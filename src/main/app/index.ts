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
import {
  denyPermissionCheck,
  denyPermissionRequest,
  devServerUrlFor,
  mainWindowOptions,
  navigationGuard,
  rendererEntryUrl,
  windowOpenHandler,
  type TrustedOrigins,
} from './window-options';

const here = path.dirname(fileURLToPath(import.meta.url));
const devServerUrl = devServerUrlFor({ development: import.meta.env.DEV, packaged: app.isPackaged, url: process.env.ELECTRON_RENDERER_URL });
const trusted: TrustedOrigins = {
  rendererDir: path.join(here, '..', 'renderer'),
  ...(devServerUrl ? { devServerUrl } : {}),
};

function hardenSessions(): void {
  session.defaultSession.setPermissionRequestHandler(denyPermissionRequest);
  session.defaultSession.setPermissionCheckHandler(denyPermissionCheck);
}

app.on('web-contents-created', (_event, contents) => {
  const guard = navigationGuard(trusted);
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(windowOpenHandler((url) => void shell.openExternal(url)));
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
