// Determinism of data order: samplers reshuffle per epoch and resume exactly; the mixture batcher
// gives the same batches for the same seed, resumes from JSON state mid-epoch, follows w, and its
// probe streams never move the main streams.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TokenBatch } from '../../../src/main/engine/batch';
import { TokenizedDataset } from '../../../src/main/data/dataset';
import { MixtureBatcher, sourceStreams, type MixtureSource } from '../../../src/main/data/mixture';
import { Rng, permutation } from '../../../src/main/data/prng';
import { SourceSampler } from '../../../src/main/data/sampler';
import type { SequenceSource } from '../../../src/main/data/sequences';
import { TokenCache } from '../../../src/main/data/token-cache';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { tempDir } from '../../helpers/temp';
import { CHATML, sentence, writeJsonl } from './helpers';

const dir = tempDir('dynamics-data-mix-');
const seqs: Record<string, SequenceSource> = {};

beforeAll(async () => {
  const tok = await loadTokenizer(CHATML);
  const cache = new TokenCache(path.join(dir, 'cache'));
  for (const [name, count] of [['a', 60], ['b', 90], ['c', 40]] as const) {
    const file = writeJsonl(path.join(dir, `${name}.jsonl`), Array.from({ length: count }, (_, i) => ({ text: `${name} ${sentence(i, 4 + (i % 9))}` })));
    const ds = (await TokenizedDataset.build(file, tok, cache)).dataset;
    seqs[name] = ds.split({ eval: 5, test: 5 }).sequences('train', { seqLen: 16 });
  }
});

function sources(seed: string | number, order = ['a', 'b', 'c']): MixtureSource[] {
  return order.map((id) => sourceStreams(id, seqs[id]!, seed));
}

function key(b: TokenBatch): string {
  return `${Array.from(b.inputIds).join(',')}|${Array.from(b.labels).join(',')}`;
}

const W = { a: 0.5, b: 0.3, c: 0.2 };

describe('Rng and permutations', () => {
  it('are reproducible from seed and from state', () => {
    const r = Rng.fromSeed('x');
    const first = Array.from({ length: 5 }, () => r.nextU32());
    expect(Array.from({ length: 5 }, ((s) => () => s.nextU32())(Rng.fromSeed('x')))).toEqual(first);
    const saved = r.state();
    const next = [r.nextFloat(), r.nextInt(7)];
    const restored = Rng.fromState(JSON.parse(JSON.stringify(saved)) as typeof saved);
    expect([restored.nextFloat(), restored.nextInt(7)]).toEqual(next);
    const p = permutation(100, Rng.fromSeed('p'));
    expect(Array.from(p).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/all zero/);
  });
});

describe('SourceSampler', () => {
  it('visits every sequence once per epoch, reshuffling each epoch', () => {
    const s = new SourceSampler(seqs.a!, 'seed');
    const n = seqs.a!.count;
    const e0 = Array.from({ length: n }, () => s.next());
    const e1 = Array.from({ length: n }, () => s.next());
    const all = Array.from({ length: n }, (_, i) => i);
    expect([...e0].sort((x, y) => x - y)).toEqual(all);
    expect([...e1].sort((x, y) => x - y)).toEqual(all);
    expect(e1).not.toEqual(e0);
    expect(s.state()).toEqual({ epoch: 1, position: n });
  });

  it('restored mid-epoch from JSON, continues identically across the epoch boundary', () => {
    const s = new SourceSampler(seqs.b!, 'seed');
    for (let i = 0; i < 37; i++) s.next();
    const saved = JSON.parse(JSON.stringify(s.state())) as ReturnType<SourceSampler['state']>;
    const expected = Array.from({ length: 3 * seqs.b!.count }, () => s.next());
    const restored = new SourceSampler(seqs.b!, 'seed', saved);
    expect(Array.from({ length: expected.length }, () => restored.next())).toEqual(expected);
  });
});

describe('MixtureBatcher', () => {
  it('gives the same batches for the same seed, different ones for another seed', () => {
    const run = (seed: number) => {
      const m = new MixtureBatcher(sources(seed), { seed, batchSize: 4, weights: W });
      return Array.from({ length: 30 }, () => key(m.next()));
    };
    expect(run(1)).toEqual(run(1));
    expect(run(2)).not.toEqual(run(1));
  });

  it('does not depend on the order the sources are listed in for each source’s stream', () => {
    const a = new MixtureBatcher(sources(1), { seed: 1, batchSize: 4, weights: { a: 1 } });
    const b = new MixtureBatcher(sources(1, ['c', 'b', 'a']), { seed: 1, batchSize: 4, weights: { a: 1 } });
    expect(Array.from({ length: 10 }, () => key(b.next()))).toEqual(Array.from({ length: 10 }, () => key(a.next())));
  });

  it('resumes from a JSON state saved mid-epoch, probe streams included, identically', () => {
    const m = new MixtureBatcher(sources(7), { seed: 7, batchSize: 3, weights: W });
    for (let i = 0; i < 23; i++) m.next();
    m.probeBatch('b');
    m.setWeights({ a: 0.1, b: 0.1, c: 0.8 });
    const saved = JSON.stringify(m.state());
    const expected = [...Array.from({ length: 60 }, () => key(m.next())), key(m.probeBatch('b')), key(m.probeBatch('c'))];

    const fresh = new MixtureBatcher(sources(7), { seed: 7, batchSize: 3, weights: W });
    fresh.restore(JSON.parse(saved) as ReturnType<MixtureBatcher['state']>);
    expect(fresh.weights).toEqual({ a: 0.1, b: 0.1, c: 0.8 });
    expect([...Array.from({ length: 60 }, () => key(fresh.next())), key(fresh.probeBatch('b')), key(fresh.probeBatch('c'))]).toEqual(expected);
  });

  it('never advances the main streams when probing', () => {
    const plain = new MixtureBatcher(sources(3), { seed: 3, batchSize: 4, weights: W });
    const probed = new MixtureBatcher(sources(3), { seed: 3, batchSize: 4, weights: W });
    const a: string[] = [];
    const b: string[] = [];
    for (let step = 0; step < 25; step++) {
      a.push(key(plain.next()));
      if (step % 5 === 0) for (const id of ['a', 'b', 'c']) for (let k = 0; k < 3; k++) probed.probeBatch(id);
      b.push(key(probed.next()));
    }
    expect(b).toEqual(a);
    // Probe batches are single-source and come from their own order.
    const snap = probed.probeState();
    const p1 = key(probed.probeBatch('a'));
    probed.restoreProbeState(snap);
    expect(key(probed.probeBatch('a'))).toBe(p1);
  });

  it('draws sources in the proportions w, never touching a source with weight 0', () => {
    const srcs = sources(11);
    const m = new MixtureBatcher(srcs, { seed: 11, batchSize: 8, weights: { a: 0.7, b: 0.3, c: 0 } });
    const counts = [0, 0, 0];
    for (let i = 0; i < 500; i++) {
      m.next();
      for (const j of m.lastSources) counts[j]!++;
    }
    const total = 4000;
    // Binomial standard deviation for p = 0.7 over 4000 draws is ~29; allow 4 of them.
    expect(Math.abs(counts[0]! - 0.7 * total)).toBeLessThan(116);
    expect(counts[2]).toBe(0);
    expect(srcs[2]!.main.state()).toEqual({ epoch: 0, position: 0 });
    m.setWeights({ c: 1 });
    m.next();
    expect(Array.from(m.lastSources)).toEqual(new Array(8).fill(2));
  });

  it('draws directional probes on common random numbers: probes toward different sources share every other row', () => {
    const rows = (toward: number, epsilon: number) => {
      const m = new MixtureBatcher(sources(5), { seed: 5, batchSize: 4, weights: W });
      const out: { source: number; ids: string }[] = [];
      for (let b = 0; b < 50; b++) {
        const batch = m.nextDirectional(toward, epsilon);
        for (let r = 0; r < 4; r++) out.push({ source: m.lastSources[r]!, ids: Array.from(batch.inputIds.subarray(r * 16, (r + 1) * 16)).join(',') });
      }
      return out;
    };
    const towardA = rows(0, 0.25);
    const towardC = rows(2, 0.25);
    // A row from b (neither probe's direction) is a shared row: the same sequence in the same place
    // in both probes; rows differ only where one of them went to its direction.
    const fromB = towardA.flatMap((x, k) => (x.source === 1 || towardC[k]!.source === 1 ? [k] : []));
    for (const k of fromB) expect(towardA[k]).toEqual(towardC[k]);
    expect(fromB.length).toBeGreaterThan(30);
    const same = towardA.filter((x, k) => x.ids === towardC[k]!.ids).length;
    expect(same).toBeGreaterThan(0.4 * towardA.length);
    expect(same).toBeLessThan(towardA.length);
    // The share of each source is (1 − ε)·w + ε·e_j.
    const shareOfC = towardC.filter((x) => x.source === 2).length / towardC.length;
    expect(shareOfC).toBeGreaterThan(0.75 * 0.2 + 0.25 - 0.08);
    expect(shareOfC).toBeLessThan(0.75 * 0.2 + 0.25 + 0.08);
    const m = new MixtureBatcher(sources(5), { seed: 5, batchSize: 4, weights: W });
    expect(() => m.nextDirectional(3, 0.5)).toThrow('no source at index 3');
    expect(() => m.nextDirectional(0, 0)).toThrow('0 < ε ≤ 1');
  });

  it('refuses weights that are not a distribution over its sources', () => {
    const m = new MixtureBatcher(sources(1), { seed: 1, batchSize: 2, weights: W });
    expect(() => m.setWeights({ a: 0.5, b: 0.2 })).toThrow(/must sum to 1/);
    expect(() => m.setWeights({ a: 1.5, b: -0.5 })).toThrow(/finite number ≥ 0/);
    expect(() => m.setWeights({ a: 0.5, z: 0.5 })).toThrow(/unknown source "z"/);
    expect(() => m.restore({ ...m.state(), streams: {} })).toThrow(/no stream for source "a"/);
  });
});
