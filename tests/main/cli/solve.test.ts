// `dynamics solve` end to end in-process: the contract's field names in and out, real GLPK, and
// user mistakes answered with one sentence and a non-zero exit.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp';
import { runCli } from './helpers';

const dir = tempDir('dynamics-solve-');

const run = (argv: string[]) => runCli(argv, { interrupts: Infinity });

function problemFile(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const problem = {
  slopes: [
    [-4e-3, -1e-3],
    [3e-3, -1e-3],
  ],
  losses: [2.0, 1.5],
  references: [null, 1.5],
  roles: ['target', 'constraint'],
  horizon: 10,
};

describe('dynamics solve', () => {
  it('writes RESULT with exactly the contract fields', async () => {
    const input = problemFile('p.json', problem);
    const output = path.join(dir, 'r.json');
    const r = await run(['solve', '--in', input, '--out', output]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^feasible: weights \[0\.25,0\.75\] written to /);
    const result = JSON.parse(readFileSync(output, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(['binding', 'maxViolation', 'objective', 'predicted', 'status', 'weights']);
    expect(result.status).toBe('feasible');
    expect(result.binding).toEqual([1]);
    expect((result.weights as number[])[0]).toBeCloseTo(0.25, 9);
  });

  it('prints RESULT to standard output without --out, and honours margin and solver', async () => {
    const r = await run(['solve', '--in', problemFile('m.json', { ...problem, margin: 0.02, solver: 'penalty-grid' })]);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out) as { status: string; weights: number[] };
    expect(result.status).toBe('infeasible');
    expect(result.weights[1]).toBeCloseTo(1, 6);
  });

  it.each([
    [['solve'], 'needs --in PROBLEM.json'],
    [['solve', '--in', 'missing.json'], 'cannot read missing.json: no such file'],
    [['solve', '--in', '@bad-json'], ':3:2 is not valid JSON (Expected double-quoted property name)'],
    [['solve', '--in', '@no-roles'], 'roles is required (a list)'],
    [['solve', '--in', '@bad-role'], 'roles[1] must be one of "target", "constraint", "monitor" (got "limit")'],
    [['solve', '--in', '@null-slope'], 'slopes[1][0] must be a number, not null'],
    [['solve', '--in', '@ragged'], 'slopes[1] has 1 entries but slopes[0] has 2'],
    [['solve', '--in', '@missing-ref'], 'references[1] must be a number because domain 1 is a constraint'],
    [['solve', '--in', '@extra'], 'the problem has an unknown field "weights"'],
    [['solve', '--in', '@horizon'], 'horizon must be greater than 0 (got 0)'],
  ])('%j fails with one sentence', async (argv, message) => {
    const files: Record<string, unknown> = {
      '@bad-json': '{\n "slopes": [[1]],\n ]',
      '@no-roles': { slopes: [[1]], losses: [1], references: [null], horizon: 1 },
      '@bad-role': { ...problem, roles: ['target', 'limit'] },
      '@null-slope': { ...problem, slopes: [[1, 2], [null, 2]] },
      '@ragged': { ...problem, slopes: [[1, 2], [2]] },
      '@missing-ref': { ...problem, references: [null, null] },
      '@extra': { ...problem, weights: [1, 0] },
      '@horizon': { ...problem, horizon: 0 },
    };
    const args = argv.map((a) => (a in files ? problemFile(`${a.slice(1)}.json`, files[a]) : a));
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.err.split('\n')).toHaveLength(1);
  });
});
