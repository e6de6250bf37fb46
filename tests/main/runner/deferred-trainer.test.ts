// DeferredTrainer: the real trainer is created only when a run uses it, and the deferred one runs
// an experiment exactly as the real one does (here on the SyntheticTrainer test double).
import { describe, expect, it } from 'vitest';
import { createMixtureSolver } from '../../../src/main/mixture/solver';
import { DeferredTrainer } from '../../../src/main/runner/deferred-trainer';
import { runExperiment } from '../../../src/main/runner/experiment';
import { runSuite } from '../../../src/main/runner/suite';
import { switchingConfig, switchingTrainer } from './scenarios';

describe('DeferredTrainer', () => {
  it('creates nothing for a run the suite skips, and runs the others identically', async () => {
    const config = switchingConfig();
    const solver = await createMixtureSolver();
    const direct = await runExperiment(config, switchingTrainer(config), solver);
    let created = 0;
    const deferred = new DeferredTrainer(switchingTrainer(config).info, async () => {
      created++;
      return switchingTrainer(config);
    });
    expect(deferred.created).toBe(false);
    const viaDeferred = await runExperiment(config, deferred, solver);
    expect(created).toBe(1);
    expect(viaDeferred.history).toEqual(direct.history);

    const made: DeferredTrainer[] = [];
    const suite = await runSuite(config, async (c) => {
      const t = new DeferredTrainer(switchingTrainer(c).info, async () => switchingTrainer(c));
      made.push(t);
      return t;
    }, solver);
    const distinct = suite.rows.filter((r) => r.sameRunAs === null).length;
    expect(distinct).toBeLessThan(suite.rows.length);
    expect(made.filter((t) => t.created)).toHaveLength(distinct);
    await new DeferredTrainer({}, () => Promise.reject(new Error('never'))).close();
  });
});
