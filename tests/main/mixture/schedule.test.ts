// Update schedules (METHOD §4): the presets at 2,048 steps are the paper's lists; other lengths
// scale by halving from half the run; H_t and c_t follow.
import { describe, expect, it } from 'vitest';
import { planUpdates, presetSteps, regularEvalSteps, updateSteps } from '../../../src/main/mixture/schedule';

describe('schedules', () => {
  it('gives the paper presets for 2,048 steps', () => {
    expect(presetSteps('none', 2048)).toEqual([0, 64, 128, 256, 512, 1024]);
    expect(presetSteps('light', 2048)).toEqual([0, 8, 16, 32, 64, 128, 256, 512, 1024]);
    expect(presetSteps('dense', 2048)).toEqual([0, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
  });

  it('scales presets to other run lengths with a doubling tail ending at half the run', () => {
    expect(presetSteps('none', 256)).toEqual([0, 8, 16, 32, 64, 128]);
    expect(presetSteps('light', 4096)).toEqual([0, 16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(presetSteps('none', 1000)).toEqual([0, 31, 63, 125, 250, 500]);
    // Short runs run out of distinct steps: dense and light coincide, and a 1-step run updates once.
    expect(presetSteps('dense', 64)).toEqual([0, 1, 2, 4, 8, 16, 32]);
    expect(presetSteps('light', 64)).toEqual(presetSteps('dense', 64));
    expect(presetSteps('dense', 1)).toEqual([0]);
  });

  it('supports a fixed interval and an explicit list', () => {
    expect(updateSteps({ kind: 'interval', every: 100 }, 350)).toEqual([0, 100, 200, 300]);
    expect(updateSteps({ kind: 'list', steps: [0, 5, 40] }, 50)).toEqual([0, 5, 40]);
  });

  it('derives H_t to the next update (or the end) and c_t = min(H_t, c_max)', () => {
    expect(planUpdates([0, 64, 128, 256, 512, 1024], 2048, 128)).toEqual([
      { step: 0, horizon: 64, probeSteps: 64 },
      { step: 64, horizon: 64, probeSteps: 64 },
      { step: 128, horizon: 128, probeSteps: 128 },
      { step: 256, horizon: 256, probeSteps: 128 },
      { step: 512, horizon: 512, probeSteps: 128 },
      { step: 1024, horizon: 1024, probeSteps: 128 },
    ]);
  });

  it('evaluates every E steps and at the last step', () => {
    expect(regularEvalSteps(64, 256)).toEqual([64, 128, 192, 256]);
    expect(regularEvalSteps(100, 250)).toEqual([100, 200, 250]);
  });
});
