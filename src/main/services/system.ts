// system.info: versions, execution providers in words, CPU, memory and the data directory.
import os from 'node:os';
import type { ExecutionProviderStatus, SystemInfo } from '../../shared/services/system';
import { cpuCores } from '../hardware';

export interface SystemServiceDeps {
  appVersion: string;
  onnxRuntimeVersion: string;
  dataDir: string;
  electronVersion: string | null;
  probeExecutionProviders: () => Promise<ExecutionProviderStatus[]>;
}

export class SystemService {
  constructor(private readonly deps: SystemServiceDeps) {}

  async info(): Promise<SystemInfo> {
    return {
      appVersion: this.deps.appVersion,
      onnxRuntimeVersion: this.deps.onnxRuntimeVersion,
      nodeVersion: process.versions.node,
      electronVersion: this.deps.electronVersion,
      platform: process.platform,
      arch: process.arch,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      cpuCores: cpuCores(),
      memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
      dataDir: this.deps.dataDir,
      executionProviders: await this.deps.probeExecutionProviders(),
    };
  }
}
