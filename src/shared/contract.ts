// The one contract between the core and every user interface. Main's handlers, the preload,
// `dynamics serve` and the renderer's client are all derived from this object: adding a method
// here without implementing it is a compile error in src/main/services.
import type { Client, Handlers } from './rpc';
import { systemService } from './services/system';

export const contract = {
  system: systemService,
};

export type Contract = typeof contract;
export type DynamicsApi = Client<Contract>;
export type DynamicsHandlers = Handlers<Contract>;

