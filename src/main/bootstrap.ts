// The composition root shared by the Electron app, the CLI and serve: builds every service in
// dependency order from a data directory. No module-level singletons anywhere else.
import { mkdirSync } from 'node:fs';
import { contract } from '../shared/contract';
import { ORT_VERSION, probeExecutionProviders } from './engine/runtime/ort';
import { appVersion, dataLayout, type DataLayout } from './paths';
import { createDispatch, type Dispatch } from './services/dispatch';
import { EventBus } from './services/event-bus';
import { createHandlers, type Services } from './services/index';
import { SystemService } from './services/system';

export interface CoreOptions {
  dataDir: string;
  electronVersion?: string | null;
  /** Where internal errors (with stacks) are logged; the caller gets only their message. */
  logError?: (method: string, err: unknown) => void;
}

export interface Core {
  layout: DataLayout;
  bus: EventBus;
  services: Services;
  dispatch: Dispatch;
  close(): Promise<void>;
}

export function createCore(options: CoreOptions): Core {
  const layout = dataLayout(options.dataDir);
  mkdirSync(layout.root, { recursive: true });
  const bus = new EventBus();
  const services: Services = {
    system: new SystemService({
      appVersion: appVersion(),
      onnxRuntimeVersion: ORT_VERSION,
      dataDir: layout.root,
      electronVersion: options.electronVersion ?? null,
      probeExecutionProviders,
    }),
  };
  const dispatch = createDispatch(contract, createHandlers(services), { onInternalError: options.logError });
  return {
    layout,
    bus,
    services,
    dispatch,
    close: async () => {},
  };
}
