// The preload: exposes exactly one object, `window.dynamics`, through contextBridge. It can call
// only `dynamics:`-prefixed channels, for which main registers exactly the contract's methods,
// and listen to core events.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_PREFIX, METHOD_NAME_PATTERN, type DynamicsBridge } from '../shared/bridge';
import type { EventEnvelope } from '../shared/events';

const bridge: DynamicsBridge = {
  call(name, input) {
    if (!METHOD_NAME_PATTERN.test(name)) return Promise.resolve({ ok: false, error: { name: 'UnknownMethod', message: `there is no method named ${name}` } });
    return ipcRenderer.invoke(`${IPC_PREFIX}${name}`, input);
  },
  onEvent(listener) {
    const wrapped = (_event: IpcRendererEvent, envelope: EventEnvelope) => listener(envelope);
    ipcRenderer.on(IPC_EVENT_CHANNEL, wrapped);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT_CHANNEL, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('dynamics', bridge);
