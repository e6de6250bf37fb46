// The BPE trainer and encoder on small inputs whose merges can be worked out by hand: frequency
// order, the byte-order tie-break, independence from input order, the prefix property the
// vocabulary study relies on, digit splitting, unique vocabulary strings, and encoding that
// reproduces the training segmentation.
import { describe, expect, it } from 'vitest';
import { BpeEncoder, countWords, preTokenize, trainBpe, type BpeModel } from '../../../scripts/corpora/bpe';

function strings(model: BpeModel): string[] {
  return model.merges.map(([a, b]) => `${model.tokens[a]}+${model.tokens[b]}`);
}

describe('preTokenize', () => {
  it('splits like the GPT-2 regex: contractions, leading spaces, digit runs, whitespace runs', () => {
    expect(preTokenize("I'll say  hello, 42 times\n\nok")).toEqual(['I', "'ll", ' say', ' ', ' hello', ',', ' 42', ' times', '\n', '\n', 'ok']);
  });
});

describe('trainBpe', () => {
  it('merges the most frequent pair first and breaks ties by the bytes of the left, then right token', () => {
    const counts = new Map([
      ['ab', 5],
      ['cd', 5],
      ['xy', 9],
    ]);
    const model = trainBpe(counts, { vocabSize: 259, splitDigits: false, minFrequency: 1 });
    expect(strings(model)).toEqual(['x+y', 'a+b', 'c+d']);
    expect(model.counts).toEqual([9, 5, 5]);
  });

  it('does not depend on the order of its input', () => {
    const words = [...countWords(['the cat sat on the mat with the hat', 'a rat and a bat at the vat'])];
    const a = trainBpe(new Map(words), { vocabSize: 290, splitDigits: false, minFrequency: 1 });
    const b = trainBpe(new Map([...words].reverse()), { vocabSize: 290, splitDigits: false, minFrequency: 1 });
    expect(b).toEqual(a);
  });

  it('learns, for a smaller vocabulary, exactly the first merges of a larger one', () => {
    const counts = countWords(['lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore']);
    const big = trainBpe(counts, { vocabSize: 320, splitDigits: false, minFrequency: 1 });
    const small = trainBpe(counts, { vocabSize: 280, splitDigits: false, minFrequency: 1 });
    expect(big.merges.slice(0, small.merges.length)).toEqual(small.merges);
    expect(big.tokens.slice(0, small.tokens.length)).toEqual(small.tokens);
  });

  it('never merges a digit when splitting digits', () => {
    const counts = countWords(['1234 1234 1234 12 12 12 x1 x1 x1 ab ab ab']);
    const model = trainBpe(counts, { vocabSize: 400, splitDigits: true, minFrequency: 1 });
    expect(model.tokens.slice(256).some((t) => /[0-9]/.test(t))).toBe(false);
    expect(model.tokens.slice(256)).toContain(' ab');
  });

  it('stops at minFrequency rather than merging pairs seen once', () => {
    const model = trainBpe(new Map([['abcd', 1]]), { vocabSize: 300, splitDigits: false, minFrequency: 2 });
    expect(model.merges).toEqual([]);
  });

  it('keeps vocabulary strings unique, each merge producing the concatenation of its pair', () => {
    const counts = countWords(['aaab aab aaaab abab baba aaaa bbbb abba', 'the then there these theme thesis']);
    const model = trainBpe(counts, { vocabSize: 320, splitDigits: false, minFrequency: 1 });
    expect(new Set(model.tokens).size).toBe(model.tokens.length);
    for (const [a, b, r] of model.merges) expect(model.tokens[r]).toBe((model.tokens[a] ?? '') + (model.tokens[b] ?? ''));
  });
});

describe('BpeEncoder', () => {
  it('reproduces the segmentation training ended with, and round-trips bytes', () => {
    const text = 'the theory of the thermal theme: then there were three';
    const model = trainBpe(countWords([text]), { vocabSize: 300, splitDigits: false, minFrequency: 1 });
    const enc = new BpeEncoder(model);
    const ids = enc.encode(text);
    expect(ids.length).toBeLessThan(text.length);
    expect(Buffer.from(ids.map((id) => model.tokens[id]).join(''), 'latin1').toString('utf8')).toBe(text);
    // With no merges every byte is its own token, UTF-8 included.
    expect(new BpeEncoder(model, 0).encode('é!')).toEqual([0xc3, 0xa9, 0x21]);
  });
});
