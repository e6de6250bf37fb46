// system.*: facts about this installation, shown in the app's shell and by `dynamics serve`.
import { z } from 'zod';
import { method } from '../rpc';

export type ProviderName = 'cpu' | 'cuda';

export interface ExecutionProviderStatus {
  name: ProviderName;
  usable: boolean;
  /** In words: why it is usable, or exactly why not (the loader's own message where there is one). */
  detail: string;
}

export interface SystemInfo {
  appVersion: string;
  onnxRuntimeVersion: string;
  nodeVersion: string;
  electronVersion: string | null;
  platform: string;
  arch: string;
  cpuModel: string;
  cpuCores: { logical: number; physical: number };
  memory: { totalBytes: number; freeBytes: number };
  dataDir: string;
  executionProviders: ExecutionProviderStatus[];
}

export const systemService = {
  info: method(z.undefined()).returns<SystemInfo>(),
};
