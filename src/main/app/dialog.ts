// The desktop app's native open dialogs, behind the core's NativeDialog interface (the dialog
// service refuses in words where there is none: the browser UI).
import { BrowserWindow, dialog } from 'electron';
import type { FileFilter, NativeDialog } from '../services/files';

export class ElectronDialog implements NativeDialog {
  async openFile(options: { title?: string | undefined; filters?: FileFilter[] | undefined }): Promise<string | null> {
    const win = BrowserWindow.getFocusedWindow();
    const o: Electron.OpenDialogOptions = {
      title: options.title ?? 'Choose a file',
      properties: ['openFile'],
      ...(options.filters ? { filters: [...options.filters, { name: 'All files', extensions: ['*'] }] } : {}),
    };
    const r = win ? await dialog.showOpenDialog(win, o) : await dialog.showOpenDialog(o);
    return r.canceled ? null : (r.filePaths[0] ?? null);
  }

  async openFolder(options: { title?: string | undefined }): Promise<string | null> {
    const win = BrowserWindow.getFocusedWindow();
    const o: Electron.OpenDialogOptions = { title: options.title ?? 'Choose a folder', properties: ['openDirectory'] };
    const r = win ? await dialog.showOpenDialog(win, o) : await dialog.showOpenDialog(o);
    return r.canceled ? null : (r.filePaths[0] ?? null);
  }
}
