import { describe, expect, it } from 'vitest';
import { cpuCores, parsePhysicalCores } from '../../src/main/hardware';

describe('parsePhysicalCores', () => {
  it('counts distinct physical cores, not hyper-threads', () => {
    const info = [0, 1, 2, 3]
      .map((cpu) => `processor\t: ${cpu}\nphysical id\t: 0\ncore id\t\t: ${cpu % 2}\n`)
      .join('\n');
    expect(parsePhysicalCores(info, 4)).toBe(2);
  });

  it('separates sockets', () => {
    const info = ['physical id: 0\ncore id: 0', 'physical id: 1\ncore id: 0'].join('\n\n');
    expect(parsePhysicalCores(info, 2)).toBe(2);
  });

  it('falls back to the logical count without core ids', () => {
    expect(parsePhysicalCores('', 8)).toBe(8);
  });

  it('reads this machine', () => {
    const c = cpuCores();
    expect(c.physical).toBeGreaterThan(0);
    expect(c.physical).toBeLessThanOrEqual(c.logical);
  });
});
