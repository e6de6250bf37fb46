// What a tokenizer.json must say for the fast byte-level BPE (bpe.ts) to encode it exactly as
// @huggingface/tokenizers does, read once per tokenizer: a BPE model without byte fallback, word
// suffixes or fused unknowns; no normalizer or Unicode normalization forms; Split pre-tokenizers on
// regexes (compiled by the library, so the JavaScript regex is the library's own) before a
// ByteLevel one. Anything else is a phrase saying what is not covered, and the library encodes.
import { ByteLevelPreTokenizer, SplitPreTokenizer } from '@huggingface/tokenizers';

export type Json = Record<string, unknown>;

/** Why the fast path does not apply to a tokenizer: a phrase for reports ("a … model", "the normalizer …"). */
export type Unsupported = string;

const UNICODE_FORMS = new Set(['NFC', 'NFD', 'NFKC', 'NFKD']);

/** A pre-tokenizer step: split keeping matches and the text between them, or keep matches only. */
export interface SplitStage {
  regex: RegExp;
  keepGaps: boolean;
}

export interface ByteLevelConfig {
  normalize: ((s: string) => string) | null;
  /** Applied in order; the last splits into the words BPE merges (ByteLevel's own regex, if it has one). */
  stages: SplitStage[];
}

/** The fast path's reading of a tokenizer, or why it does not apply. */
export function byteLevelConfig(tj: Json, config: Json): ByteLevelConfig | Unsupported {
  const model = tj.model as Json | undefined;
  if (model?.type !== 'BPE') return `a ${JSON.stringify(model?.type ?? null)} model, not BPE`;
  if (typeof model.vocab !== 'object' || model.vocab === null || !Array.isArray(model.merges)) return 'a BPE model without vocab or merges';
  if (model.byte_fallback === true) return 'a model falling back to byte tokens (SentencePiece style)';
  if (model.fuse_unk === true) return 'a model fusing unknown tokens';
  if (model.end_of_word_suffix || model.continuing_subword_suffix || model.continuing_subword_prefix) return 'a model marking word ends or continuations';
  if (typeof model.unk_token === 'string' && !(model.unk_token in (model.vocab as Json))) return 'an unknown token missing from the vocabulary';
  if (config.remove_space === true || config.do_lowercase_and_remove_accent) return 'a config removing spaces or accents';
  const normalize = normalizerOf(tj.normalizer);
  if (typeof normalize === 'string') return normalize;
  const stages = stagesOf(tj.pre_tokenizer);
  if (typeof stages === 'string') return stages;
  return { normalize, stages };
}

function normalizerOf(config: unknown): ((s: string) => string) | null | Unsupported {
  if (config === null || config === undefined) return null;
  const c = config as Json;
  if (typeof c.type === 'string' && UNICODE_FORMS.has(c.type)) {
    const form = c.type;
    return (s) => s.normalize(form);
  }
  if (c.type === 'Sequence' && Array.isArray(c.normalizers)) {
    const steps: ((s: string) => string)[] = [];
    for (const n of c.normalizers) {
      const f = normalizerOf(n);
      if (typeof f === 'string') return f;
      if (f) steps.push(f);
    }
    return steps.length === 0 ? (s) => s : (s) => steps.reduce((t, f) => f(t), s);
  }
  return `the normalizer ${JSON.stringify(c.type)}`;
}

function byteLevelStage(c: Json): SplitStage | null | Unsupported {
  if (c.add_prefix_space === true) return 'a ByteLevel pre-tokenizer adding a prefix space';
  if (c.use_regex === false) return null;
  const p = new ByteLevelPreTokenizer(c as never).pattern;
  return { regex: new RegExp(p.source, p.flags), keepGaps: false };
}

function splitStage(c: Json): SplitStage | Unsupported {
  const pattern = c.pattern as Json | undefined;
  if (typeof pattern?.Regex !== 'string') return 'a Split pre-tokenizer on a plain string';
  // The library keeps only the matches when `invert` is set, else matches and the text between.
  const keepGaps = !c.invert;
  if (keepGaps && String(c.behavior).toLowerCase() !== 'isolated') return `a Split pre-tokenizer with behavior ${JSON.stringify(c.behavior)}`;
  // The library's own translation of the tokenizer's (Oniguruma) regex to JavaScript.
  const p = new SplitPreTokenizer(c as never).pattern;
  if (!p) return 'a Split pattern the library cannot compile';
  return { regex: new RegExp(p.source, p.flags), keepGaps };
}

/** The split stages of a byte-level pre-tokenizer: Split steps, then ByteLevel last. */
function stagesOf(config: unknown): SplitStage[] | Unsupported {
  const c = (config ?? {}) as Json;
  if (c.type === 'ByteLevel') {
    const s = byteLevelStage(c);
    if (typeof s === 'string') return s;
    return s ? [s] : [];
  }
  if (c.type !== 'Sequence' || !Array.isArray(c.pretokenizers)) return `the pre-tokenizer ${JSON.stringify(c.type ?? null)}`;
  const steps = c.pretokenizers as Json[];
  const last = steps.at(-1);
  if (last?.type !== 'ByteLevel') return 'a pre-tokenizer sequence that does not end with ByteLevel';
  const stages: SplitStage[] = [];
  for (const step of steps.slice(0, -1)) {
    if (step?.type !== 'Split') return `the pre-tokenizer ${JSON.stringify(step?.type ?? null)} in a sequence`;
    const s = splitStage(step);
    if (typeof s === 'string') return s;
    stages.push(s);
  }
  const s = byteLevelStage(last);
  if (typeof s === 'string') return s;
  if (s) stages.push(s);
  return stages;
}

/** GPT-2's map from bytes to printable characters, the alphabet of byte-level vocabularies. */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return out;
}
