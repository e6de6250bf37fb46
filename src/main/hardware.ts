// CPU facts the engine and the system service need. ONNX Runtime runs best with one intra-op
// thread per physical core; os.cpus() counts hyper-threads, so physical cores come from cpuinfo.
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Counts distinct (physical id, core id) pairs; falls back to `logical` when there are none. */
export function parsePhysicalCores(cpuinfo: string, logical: number): number {
  const cores = new Set<string>();
  let physical = '0';
  for (const line of cpuinfo.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'physical id') physical = value;
    if (key === 'core id') cores.add(`${physical}:${value}`);
  }
  return cores.size > 0 ? cores.size : logical;
}

export interface CpuCores {
  logical: number;
  physical: number;
}

export function cpuCores(): CpuCores {
  const logical = os.cpus().length;
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: physical cores unknown, use logical ones
  }
  return { logical, physical: parsePhysicalCores(cpuinfo, logical) };
}
