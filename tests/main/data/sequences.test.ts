// Packing and padding on a real tokenized dataset: the packed rows are exactly the examples'
// tokens in split order with their loss masks; padded rows are one example each; eval sets are
// identical every time they are built.
import { beforeAll, describe, expect, it } from 'vitest';
import { IGNORE_LABEL } from '../../../src/main/engine/batch';
import { TokenizedDataset } from '../../../src/main/data/dataset';
import { NO_LOSS, TOKEN_ID_MASK } from '../../../src/main/data/encode';
import { EvalSet } from '../../../src/main/data/eval-set';
import { PackedSequences, PaddedSequences } from '../../../src/main/data/sequences';
import { TokenCache } from '../../../src/main/data/token-cache';
import { loadTokenizer, type TextTokenizer } from '../../../src/main/data/tokenizer';
import { tempDir } from '../../helpers/temp';
import { CHATML, sentence, writeJsonl } from './helpers';
import path from 'node:path';

const dir = tempDir('dynamics-data-seq-');
let tok: TextTokenizer;
let text: TokenizedDataset;
let chat: TokenizedDataset;

beforeAll(async () => {
  tok = await loadTokenizer(CHATML);
  const cache = new TokenCache(path.join(dir, 'cache'));
  text = (await TokenizedDataset.build(writeJsonl(path.join(dir, 't.jsonl'), Array.from({ length: 120 }, (_, i) => ({ text: sentence(i, 3 + (i % 17)) }))), tok, cache)).dataset;
  const chats = Array.from({ length: 40 }, (_, i) => ({ messages: [{ role: 'user', content: `q${i} ${sentence(i, 2)}` }, { role: 'assistant', content: sentence(i + 1, 2 + (i % 30)) }] }));
  chat = (await TokenizedDataset.build(writeJsonl(path.join(dir, 'c.jsonl'), chats), tok, cache)).dataset;
});

function rows(seq: { count: number; seqLen: number; readInto: (i: number, a: Int32Array, b: Int32Array, r: number) => void }) {
  const T = seq.seqLen;
  const out: { ids: number[]; labels: number[] }[] = [];
  for (let i = 0; i < seq.count; i++) {
    const ids = new Int32Array(T);
    const labels = new Int32Array(T);
    seq.readInto(i, ids, labels, 0);
    out.push({ ids: Array.from(ids), labels: Array.from(labels) });
  }
  return out;
}

describe('packed sequences', () => {
  it('are the split’s examples concatenated in order and cut to seqLen, masks carried, last row padded', () => {
    const splits = text.split({ eval: 10, test: 10 });
    const seq = splits.sequences('train', { seqLen: 37 });
    expect(seq).toBeInstanceOf(PackedSequences);
    const stream: number[] = [];
    for (const i of splits.examples.train) stream.push(...text.exampleTokens(i));
    expect(seq.count).toBe(Math.ceil(stream.length / 37));
    const got = rows(seq);
    const ids = got.flatMap((r) => r.ids).slice(0, stream.length);
    const labels = got.flatMap((r) => r.labels).slice(0, stream.length);
    expect(ids).toEqual(stream.map((v) => v & TOKEN_ID_MASK));
    expect(labels).toEqual(stream.map((v) => ((v & NO_LOSS) !== 0 ? IGNORE_LABEL : v & TOKEN_ID_MASK)));
    const tail = got.at(-1)!;
    const pad = seq.count * 37 - stream.length;
    expect(tail.ids.slice(37 - pad)).toEqual(new Array(pad).fill(tok.padId));
    expect(tail.labels.slice(37 - pad)).toEqual(new Array(pad).fill(IGNORE_LABEL));
    // Documents are separated by EOS inside the stream.
    expect(ids.filter((x) => x === tok.eosId).length).toBe(splits.examples.train.length);
  });
});

describe('padded sequences', () => {
  it('hold one example per row, padded with ignored labels, over-long ones cut from the left by default (the answer kept); chats default to them', () => {
    const splits = chat.split({ eval: 4, test: 4 });
    const seq = splits.sequences('train', { seqLen: 24 });
    expect(seq).toBeInstanceOf(PaddedSequences);
    expect(seq.count).toBe(splits.examples.train.length);
    const got = rows(seq);
    const expected = { examples: 0, tokensLost: 0, lossTokensLost: 0 };
    splits.examples.train.forEach((ex, k) => {
      const raw = Array.from(chat.exampleTokens(ex));
      if (raw.length > 24) {
        expected.examples++;
        expected.tokensLost += raw.length - 24;
        expected.lossTokensLost += raw.slice(0, raw.length - 24).filter((v) => (v & NO_LOSS) === 0).length;
      }
      const kept = raw.slice(-24);
      expect(got[k]!.ids.slice(0, kept.length)).toEqual(kept.map((v) => v & TOKEN_ID_MASK));
      expect(got[k]!.labels.slice(0, kept.length)).toEqual(kept.map((v) => ((v & NO_LOSS) !== 0 ? IGNORE_LABEL : v & TOKEN_ID_MASK)));
      expect(got[k]!.labels.slice(kept.length).every((l) => l === IGNORE_LABEL)).toBe(true);
      // The row ends with the example's end: the final answer and its end-of-turn marker.
      expect(tok.decode(got[k]!.ids.slice(0, kept.length))).toMatch(/<\|im_end\|>\n$/);
    });
    expect((seq as PaddedSequences).truncation).toEqual(expected);
    expect(expected.examples).toBeGreaterThan(0);
    expect(expected.lossTokensLost).toBeGreaterThan(0); // long answers lose their first tokens
    expect(expected.lossTokensLost).toBeLessThan(expected.tokensLost);
    // Only assistant tokens carry loss.
    const trained = got.flatMap((r) => r.labels.filter((l) => l !== IGNORE_LABEL));
    expect(tok.decode(trained)).not.toContain('<|im_start|>');
  });

  it('cut from the right or drop over-long examples on request, counting what is lost', () => {
    const splits = chat.split({ eval: 4, test: 4 });
    const lengths = splits.examples.train.map((ex) => chat.exampleTokens(ex).length);
    const T = [...lengths].sort((a, b) => a - b)[lengths.length >> 1]!; // about half the examples are longer
    const over = lengths.filter((n) => n > T);
    expect(over.length).toBeGreaterThan(0);
    const right = splits.sequences('train', { seqLen: T, truncation: 'right' }) as PaddedSequences;
    const first = rows(right);
    splits.examples.train.forEach((ex, k) => {
      const kept = Array.from(chat.exampleTokens(ex)).slice(0, T);
      expect(first[k]!.ids.slice(0, kept.length)).toEqual(kept.map((v) => v & TOKEN_ID_MASK));
    });
    expect(right.truncation.examples).toBe(over.length);
    expect(right.truncation.tokensLost).toBe(over.reduce((s, n) => s + n - T, 0));
    expect(right.truncation.lossTokensLost).toBe(right.truncation.tokensLost); // the cut ends are answers

    const drop = splits.sequences('train', { seqLen: T, truncation: 'drop' }) as PaddedSequences;
    expect(drop.count).toBe(lengths.length - over.length);
    expect(drop.truncation).toMatchObject({ examples: over.length, tokensLost: over.reduce((s, n) => s + n, 0) });
    const kept = splits.examples.train.filter((ex) => chat.exampleTokens(ex).length <= T);
    expect(rows(drop).map((r) => r.ids.filter((id) => id !== tok.padId))).toEqual(Array.from(kept, (ex) => Array.from(chat.exampleTokens(ex), (v) => v & TOKEN_ID_MASK)));
    expect(() => splits.sequences('train', { seqLen: 2, truncation: 'drop' })).toThrow(/every example of the train split is longer than 2 tokens/);
  });

  it('can be packed on request', () => {
    expect(chat.split({ eval: 4, test: 4 }).sequences('train', { seqLen: 24, mode: 'packed' })).toBeInstanceOf(PackedSequences);
  });

  it('refuses an empty split and a sequence length below 2', () => {
    const splits = text.split({ eval: 0, test: 5 });
    expect(() => splits.sequences('eval', { seqLen: 16 })).toThrow(/the eval split of the dataset is empty/);
    expect(() => splits.sequences('train', { seqLen: 1 })).toThrow(/sequence length/);
  });
});

describe('EvalSet', () => {
  it('is the same batches every time, the probe set is its prefix, and short splits are padded, not cycled', async () => {
    const build = () => new EvalSet('d', text.split({ eval: 0.2, test: 0.1 }).sequences('eval', { seqLen: 16 }), { batchSize: 4, maxBatches: 50, padId: tok.padId });
    const a = build();
    const b = build();
    expect(a.fingerprint()).toBe(b.fingerprint());
    const seqCount = text.split({ eval: 0.2, test: 0.1 }).sequences('eval', { seqLen: 16 }).count;
    expect(a.rows).toBe(seqCount);
    expect(a.batchCount).toBe(Math.ceil(seqCount / 4));
    const probe = a.prefix(2);
    expect(probe.batchCount).toBe(2);
    expect(Array.from(probe.batch(1).inputIds)).toEqual(Array.from(a.batch(1).inputIds));
    const last = a.batch(a.batchCount - 1);
    const real = a.rowsIn(a.batchCount - 1);
    expect(Array.from(last.labels.slice(real * 16)).every((l) => l === IGNORE_LABEL)).toBe(true);
    // Reopening the cache entry gives the same set.
    const reopened = TokenizedDataset.open({ dir: text.dir, meta: text.meta });
    const c = new EvalSet('d', reopened.split({ eval: 0.2, test: 0.1 }).sequences('eval', { seqLen: 16 }), { batchSize: 4, maxBatches: 50, padId: tok.padId });
    expect(c.fingerprint()).toBe(a.fingerprint());
    reopened.close();
  });
});
