// One contract method's IPC handler: the sender frame's URL is checked before anything else, and
// the payload goes to the dispatcher (which validates it). Electron appears only as types, so the
// check is tested against this function without the Electron binary.
import type { IpcMainInvokeEvent } from 'electron';
import type { Dispatch } from '../services/dispatch';
import { isTrustedUrl, type TrustedOrigins } from './window-options';

export const FORBIDDEN_IPC = { ok: false, error: { name: 'Forbidden', message: 'IPC from an untrusted frame was refused' } } as const;

/** The sender as the check reads it: its frame's URL (no frame once it navigated away or closed). */
export type IpcSender = Pick<IpcMainInvokeEvent, 'senderFrame'>;

export function ipcCallHandler(name: string, dispatch: Dispatch, trusted: TrustedOrigins): (event: IpcSender, input: unknown) => Promise<unknown> {
  return async (event, input) => {
    // senderFrame is null when the frame is gone, and reading it can throw once it was disposed.
    let url: string | undefined;
    try {
      url = event.senderFrame?.url;
    } catch {
      url = undefined;
    }
    if (!isTrustedUrl(url, trusted)) return FORBIDDEN_IPC;
    return dispatch(name, input);
  };
}
