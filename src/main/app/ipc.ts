// Binds the contract to Electron IPC: one `dynamics:<method>` handler per contract method, each
// checking the sender frame and handing the payload to the dispatcher, and events pushed to windows.
import { ipcMain, type WebContents } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_PREFIX } from '../../shared/bridge';
import { contract } from '../../shared/contract';
import { methodNames } from '../../shared/rpc';
import type { Core } from '../bootstrap';
import { ipcCallHandler } from './ipc-handler';
import type { TrustedOrigins } from './window-options';

export function bindIpc(core: Core, trusted: TrustedOrigins): () => void {
  const names = methodNames(contract);
  for (const name of names) ipcMain.handle(`${IPC_PREFIX}${name}`, ipcCallHandler(name, core.dispatch, trusted));
  return () => {
    for (const name of names) ipcMain.removeHandler(`${IPC_PREFIX}${name}`);
  };
}

/** Forwards core events to a window until it is destroyed. */
export function forwardEvents(core: Core, contents: WebContents): void {
  const unsubscribe = core.bus.subscribe((envelope) => {
    if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, envelope);
  });
  contents.once('destroyed', unsubscribe);
}
