// The fast path for byte-level BPE tokenizers (GPT-2, Qwen, Llama 3, DeepSeek): the same ids as
// @huggingface/tokenizers at many times its speed. The library pays per word for a 10,000-entry LRU,
// TextEncoder + Array.from + join for the byte mapping and JSON-string pair keys in its merge loop;
// here the pre-tokens come from the tokenizer's own regexes, each word's ids are cached, and a miss
// runs an integer merge loop straight on the word's UTF-8 bytes. The steps mirror the library's
// encode_text (added-token split, lstrip/rstrip, normalizer, pre-tokenizer, model, id lookup) so
// that equality holds by construction; tests/main/data/bpe.test.ts proves it token for token on
// real tokenizer files. Configurations outside that mirror are refused with a reason, and the
// caller keeps the library for them.
import { byteLevelConfig, bytesToUnicode, type Json, type SplitStage, type Unsupported } from './bpe-config';
import { MergeTable, type MergeArrays } from './bpe-merge';

export type { Unsupported } from './bpe-config';

/** Where encoded ids go: an array, or a buffer that takes them one at a time. */
export interface IdSink {
  push(id: number): unknown;
}

/** Words this long or longer are not cached (the library does the same at 256). */
const MAX_CACHED_WORD = 256;
/** The cache starts over when it holds this many words or pooled ids: bounded memory on any text. */
const MAX_CACHE_WORDS = 1 << 17;
const MAX_CACHE_POOL = 1 << 21;

interface AddedEntry {
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}

/** Greedy longest match of added-token contents, as the library's DictionarySplitter does. */
class AddedSplitter {
  /** 1 where an added token begins with that UTF-16 unit. */
  readonly first = new Uint8Array(65536);
  private readonly byFirst = new Map<number, string[]>();
  readonly empty: boolean;

  constructor(contents: readonly string[]) {
    for (const c of contents) {
      if (c.length === 0) continue;
      const code = c.charCodeAt(0);
      this.first[code] = 1;
      const list = this.byFirst.get(code) ?? [];
      list.push(c);
      this.byFirst.set(code, list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.length - a.length);
    this.empty = this.byFirst.size === 0;
  }

  split(text: string): string[] {
    if (this.empty) return [text];
    const out: string[] = [];
    let start = 0;
    let i = 0;
    const n = text.length;
    while (i < n) {
      const code = text.charCodeAt(i);
      let match: string | undefined;
      if (this.first[code] === 1) match = this.byFirst.get(code)!.find((c) => text.startsWith(c, i));
      if (match === undefined) {
        i++;
        continue;
      }
      if (i > start) out.push(text.slice(start, i));
      out.push(match);
      i += match.length;
      start = i;
    }
    if (start < n) out.push(text.slice(start));
    return out;
  }
}





/** An added token as tokenizer.json lists it (the fields the fast path reads). */
interface AddedToken {
  content: string;
  id: number;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
  special?: boolean;
}

/** What BPE needs beyond the configuration: integer tables, built once from the vocabulary and merges. */
interface BpeTables {
  byteSym: Int32Array;
  symOut: Int32Array;
  merges: MergeArrays;
  mergeCount: number;
  /** With ignore_merges, the id of each vocabulary entry (a whole word is that entry). */
  wholeWords: ReadonlyMap<string, number> | null;
}

/**
 * Everything a worker thread needs to encode exactly as this encoder does, without the vocabulary
 * or the merge strings: the normalizer and pre-tokenizer configuration, the added tokens and the
 * integer tables (copied, a few megabytes, where loading the tokenizer again would take hundreds).
 */
export interface BpeSnapshot {
  normalizer: unknown;
  preTokenizer: unknown;
  config: Json;
  addedTokens: AddedToken[];
  tables: BpeTables;
}

export class ByteLevelBpe {
  private readonly added = new Map<string, AddedEntry>();
  private readonly rawSplitter: AddedSplitter;
  private readonly normSplitter: AddedSplitter;
  /** An added token holds a newline: long texts are then encoded whole (encodeLinesTo). */
  private readonly addedNewline: boolean;
  /** Symbol of each byte, output id of each symbol (-1: dropped), result of each merge rank. */
  private readonly byteSym: Int32Array;
  private readonly symOut: Int32Array;
  private readonly merges: MergeTable;
  /** With ignore_merges, a word that is a whole vocabulary entry is that entry. */
  private readonly wholeWord: ((mapped: string) => number | undefined) | null;
  private readonly byteChar = bytesToUnicode();

  private cache = new Map<string, number>();
  private pool = new Int32Array(1 << 16);
  private poolLen = 0;
  private bytes = new Uint8Array(1024);
  private syms = new Int32Array(1024);
  private readonly scratch: number[] = [];

  private constructor(
    private readonly source: Omit<BpeSnapshot, 'tables'>,
    private readonly normalize: ((s: string) => string) | null,
    private readonly stages: SplitStage[],
    tables: Omit<BpeTables, 'wholeWords'>,
    wholeWord: ((mapped: string) => number | undefined) | null,
    /** The whole-word map for a snapshot, built only when one is asked for. */
    private readonly wholeWords: (() => ReadonlyMap<string, number>) | null,
  ) {
    for (const t of source.addedTokens) {
      const entry = { id: t.id, lstrip: t.lstrip === true, rstrip: t.rstrip === true };
      this.added.set(t.content, entry);
    }
    const addedContents: string[] = [];
    const normalizedContents: string[] = [];
    for (const t of source.addedTokens) {
      const normalized = t.normalized ?? t.special !== true;
      if (normalized && normalize) {
        const n = normalize(t.content);
        normalizedContents.push(n);
        this.added.set(n, this.added.get(t.content)!);
      } else {
        addedContents.push(t.content);
      }
    }
    this.rawSplitter = new AddedSplitter(addedContents);
    this.normSplitter = new AddedSplitter(normalizedContents);
    this.addedNewline = [...addedContents, ...normalizedContents].some((c) => c.includes('\n'));
    this.byteSym = tables.byteSym;
    this.symOut = tables.symOut;
    this.merges = new MergeTable(tables.mergeCount, tables.merges);
    this.wholeWord = wholeWord;
  }

  /**
   * The fast path for this tokenizer, or the reason it does not apply. `tokensToIds`: the library's
   * own map of the same tokenizer (its model's tokens_to_ids), to share instead of building a copy.
   */
  static create(tj: Json, config: Json, shared?: ReadonlyMap<string, number>): ByteLevelBpe | Unsupported {
    const c = byteLevelConfig(tj, config);
    if (typeof c === 'string') return c;
    const model = tj.model as Json;
    const vocab = model.vocab as Record<string, number>;
    // What the library calls tokens_to_ids: the model vocabulary, then every added token over it.
    let tokensToIds: ReadonlyMap<string, number>;
    if (shared) tokensToIds = shared;
    else {
      const own = new Map<string, number>();
      for (const k in vocab) own.set(k, vocab[k]!);
      for (const t of (tj.added_tokens ?? []) as Json[]) own.set(t.content as string, t.id as number);
      tokensToIds = own;
    }
    const addedTokens = ((tj.added_tokens ?? []) as Json[]).map((t) => ({ ...(t as unknown as AddedToken) }));
    const added = new Map<string, number>();
    for (const t of addedTokens) added.set(t.content, t.id);
    for (const t of addedTokens) {
      const normalized = t.normalized ?? t.special !== true;
      if (normalized && c.normalize) added.set(c.normalize(t.content), t.id);
    }
    const unk = typeof model.unk_token === 'string' ? model.unk_token : null;
    const outId = (s: string): number => {
      const t = tokensToIds.has(s) ? s : unk;
      if (t === null) return -1;
      return added.get(t) ?? tokensToIds.get(t)!;
    };

    // Symbols: every string BPE can hold (the bytes' characters and every merge's parts and result).
    // A vocabulary string is its own id; the few others (and a second string sharing an id) get
    // numbers past the vocabulary, so no table keyed by all the strings is built.
    let maxId = -1;
    for (const id of tokensToIds.values()) maxId = Math.max(maxId, id);
    const owner: (string | undefined)[] = new Array<string | undefined>(maxId + 1);
    for (const [k, id] of tokensToIds) owner[id] ??= k;
    const extra = new Map<string, number>();
    const extraOut: number[] = [];
    const sym = (s: string): number => {
      const id = tokensToIds.get(s);
      if (id !== undefined && owner[id] === s) return id;
      let k = extra.get(s);
      if (k === undefined) {
        k = maxId + 1 + extraOut.length;
        extra.set(s, k);
        extraOut.push(outId(s));
      }
      return k;
    };
    const byteChar = bytesToUnicode();
    const byteSym = new Int32Array(256);
    for (let b = 0; b < 256; b++) byteSym[b] = sym(byteChar[b]!);
    const merges = model.merges as (string | string[])[];
    const table = new MergeTable(merges.length);
    merges.forEach((m, rank) => {
      const [a, b] = typeof m === 'string' ? m.split(' ', 2) : m;
      const sa = sym(String(a));
      const sb = sym(String(b));
      // A pair listed twice keeps its last rank, as the library's Map of ranks does.
      table.set(sa, sb, rank, sym(`${a}${b}`));
    });
    const symOut = new Int32Array(maxId + 1 + extraOut.length).fill(-1);
    owner.forEach((k, id) => {
      if (k !== undefined) symOut[id] = outId(k);
    });
    symOut.set(extraOut, maxId + 1);
    const ignoreMerges = model.ignore_merges === true;
    const wholeWord = ignoreMerges ? (w: string) => (tokensToIds.has(w) ? outId(w) : undefined) : null;
    const wholeWords = ignoreMerges ? () => new Map([...tokensToIds.keys()].map((k) => [k, outId(k)])) : null;
    const source = { normalizer: tj.normalizer ?? null, preTokenizer: tj.pre_tokenizer ?? null, config, addedTokens };
    return new ByteLevelBpe(source, c.normalize, c.stages, { byteSym, symOut, merges: table.arrays(), mergeCount: merges.length }, wholeWord, wholeWords);
  }

  /** What `ByteLevelBpe.restore` needs to encode the same ids in another thread. */
  snapshot(): BpeSnapshot {
    const tables = { byteSym: this.byteSym, symOut: this.symOut, merges: this.merges.arrays(), mergeCount: this.merges.size, wholeWords: this.wholeWords?.() ?? null };
    return { ...this.source, tables };
  }

  static restore(snap: BpeSnapshot): ByteLevelBpe {
    // The configuration is read again (regexes and functions do not cross threads); the vocabulary
    // and merges it checks are already tables.
    const c = byteLevelConfig({ model: { type: 'BPE', vocab: {}, merges: [] }, normalizer: snap.normalizer, pre_tokenizer: snap.preTokenizer }, snap.config);
    if (typeof c === 'string') throw new Error(`a tokenizer snapshot that does not restore: ${c}`);
    const words = snap.tables.wholeWords;
    return new ByteLevelBpe(snap, c.normalize, c.stages, snap.tables, words ? (w) => words.get(w) : null, words ? () => words : null);
  }

  /** Token ids of `text`, no specials added around it: the library's encode_text. */
  encode(text: string): number[] {
    const out: number[] = [];
    this.encodeTo(text, out);
    return out;
  }

  /** The same ids, handed to `out` one by one (a long document then needs no array of them). */
  encodeTo(text: string, out: IdSink): void {
    const sections = this.splitAdded(this.rawSplitter, text);
    for (const section of sections) {
      if (section.length === 0) continue;
      const token = this.added.get(section);
      if (token) {
        out.push(token.id);
        continue;
      }
      const normalized = this.normalize ? this.normalize(section) : section;
      if (normalized.length === 0) continue;
      for (const sub of this.splitAdded(this.normSplitter, normalized)) {
        if (sub.length === 0) continue;
        const t = this.added.get(sub);
        if (t) out.push(t.id);
        else this.preTokenize(sub, 0, out);
      }
    }
  }

  /**
   * The ids of `lines.join("\n")` without building that string: the text is encoded a piece at a
   * time, cut only just after a newline that follows a non-space character and precedes a
   * printable ASCII character that begins no added token. No pre-tokenizer match we cover spans
   * such a newline, no normalizer we cover joins across it, and no added token is split or
   * stripped by it, so the ids are those of the whole text (tests/main/data/long-document.test.ts).
   */
  encodeLinesTo(lines: readonly string[], out: IdSink): void {
    if (this.addedNewline) {
      this.encodeTo(lines.join('\n'), out);
      return;
    }
    // Most of each piece is encoded as a slice of it (no copy); only the text between the last cut
    // of a piece and the first cut of the next (usually a line or two) is put together.
    let pending: string[] = [];
    const flush = () => {
      if (pending.length > 0) this.encodeTo(pending.length === 1 ? pending[0]! : pending.join(''), out);
      pending = [];
    };
    for (let i = 0; i < lines.length; i++) {
      const piece = lines[i]!;
      if (i > 0) {
        pending.push('\n');
        const prev = lines[i - 1]!;
        if (prev.length > 0 && piece.length > 0 && this.cuttable(prev.charCodeAt(prev.length - 1), piece.charCodeAt(0))) flush();
      }
      const first = this.nextCut(piece, 0);
      if (first < 0) {
        pending.push(piece);
        continue;
      }
      pending.push(piece.slice(0, first));
      flush();
      const last = this.lastCut(piece);
      if (last > first) this.encodeTo(piece.slice(first, last), out);
      if (last < piece.length) pending.push(piece.slice(last));
    }
    flush();
  }

  /** The first place in `s` from `from` just after a newline where it may be cut (see encodeLinesTo), or -1. */
  private nextCut(s: string, from: number): number {
    for (let i = s.indexOf('\n', from + 1); i > 0 && i < s.length - 1; i = s.indexOf('\n', i + 1)) {
      if (this.cuttable(s.charCodeAt(i - 1), s.charCodeAt(i + 1))) return i + 1;
    }
    return -1;
  }

  /** The last such place in `s`, or -1. */
  private lastCut(s: string): number {
    for (let i = s.lastIndexOf('\n', s.length - 2); i > 0; i = s.lastIndexOf('\n', i - 1)) {
      if (this.cuttable(s.charCodeAt(i - 1), s.charCodeAt(i + 1))) return i + 1;
    }
    return -1;
  }

  /** Whether a newline between these two characters may be a cut. */
  private cuttable(before: number, after: number): boolean {
    return after > 0x20 && after < 0x7f && this.rawSplitter.first[after] === 0 && this.normSplitter.first[after] === 0 && !/\s/u.test(String.fromCharCode(before));
  }

  /** Splits on added tokens, then trims around those that strip their neighbours. */
  private splitAdded(splitter: AddedSplitter, text: string): string[] {
    const parts = splitter.split(text);
    if (parts.length === 1) return parts;
    for (let i = 0; i < parts.length; i++) {
      const t = this.added.get(parts[i]!);
      if (!t) continue;
      if (t.lstrip && i > 0) parts[i - 1] = parts[i - 1]!.trimEnd();
      if (t.rstrip && i < parts.length - 1) parts[i + 1] = parts[i + 1]!.trimStart();
    }
    return parts;
  }

  private preTokenize(text: string, stage: number, out: IdSink): void {
    if (stage === this.stages.length) {
      this.word(text, out);
      return;
    }
    const { regex, keepGaps } = this.stages[stage]!;
    regex.lastIndex = 0;
    let prev = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const piece = m[0];
      const at = m.index;
      if (piece.length === 0) {
        // Step over the empty match by one code point, as matchAll does for a /u regex.
        const c = text.charCodeAt(at);
        regex.lastIndex = at + (c >= 0xd800 && c <= 0xdbff && at + 1 < text.length && (text.charCodeAt(at + 1) & 0xfc00) === 0xdc00 ? 2 : 1);
        continue;
      }
      const next = regex.lastIndex;
      if (keepGaps && prev < at) this.preTokenize(text.slice(prev, at), stage + 1, out);
      this.preTokenize(piece, stage + 1, out);
      prev = at + piece.length;
      regex.lastIndex = next;
    }
    if (keepGaps && prev < text.length) this.preTokenize(prev === 0 ? text : text.slice(prev), stage + 1, out);
  }

  /** One pre-token's ids, from the cache or the merge loop. */
  private word(w: string, out: IdSink): void {
    const hit = this.cache.get(w);
    if (hit !== undefined) {
      if (hit >= 0) out.push(hit);
      else for (let i = -hit, end = i + this.pool[-hit - 1]!; i < end; i++) out.push(this.pool[i]!);
      return;
    }
    const ids = this.scratch;
    ids.length = 0;
    this.merge(w, ids);
    for (const id of ids) out.push(id);
    if (w.length >= MAX_CACHED_WORD) return;
    if (this.cache.size >= MAX_CACHE_WORDS || this.poolLen + ids.length + 1 > MAX_CACHE_POOL) {
      this.cache = new Map();
      this.poolLen = 0;
    }
    // A slice keeps its whole source string alive; the key is copied so the cache holds no documents.
    const key = `\u0000${w}`.slice(1);
    if (ids.length === 1) {
      this.cache.set(key, ids[0]!);
      return;
    }
    if (this.poolLen + ids.length + 1 > this.pool.length) {
      const grown = new Int32Array(Math.max(this.pool.length * 2, this.poolLen + ids.length + 1));
      grown.set(this.pool.subarray(0, this.poolLen));
      this.pool = grown;
    }
    this.pool[this.poolLen] = ids.length;
    for (let i = 0; i < ids.length; i++) this.pool[this.poolLen + 1 + i] = ids[i]!;
    this.cache.set(key, -(this.poolLen + 1));
    this.poolLen += ids.length + 1;
  }

  /** UTF-8 bytes of `w` into this.bytes (lone surrogates become U+FFFD, as TextEncoder does). */
  private utf8(w: string): number {
    if (this.bytes.length < w.length * 3) this.bytes = new Uint8Array(w.length * 3);
    const b = this.bytes;
    let n = 0;
    for (let i = 0; i < w.length; i++) {
      let c = w.charCodeAt(i);
      if (c < 0x80) {
        b[n++] = c;
        continue;
      }
      if (c < 0x800) {
        b[n++] = 0xc0 | (c >> 6);
        b[n++] = 0x80 | (c & 63);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < w.length ? w.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          b[n++] = 0xf0 | (c >> 18);
          b[n++] = 0x80 | ((c >> 12) & 63);
          b[n++] = 0x80 | ((c >> 6) & 63);
          b[n++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      b[n++] = 0xe0 | (c >> 12);
      b[n++] = 0x80 | ((c >> 6) & 63);
      b[n++] = 0x80 | (c & 63);
    }
    return n;
  }

  /** BPE on the bytes of `w`: always the lowest-ranked pair, leftmost first, as the library does. */
  private merge(w: string, ids: number[]): void {
    const n = this.utf8(w);
    if (this.wholeWord) {
      let mapped = '';
      for (let i = 0; i < n; i++) mapped += this.byteChar[this.bytes[i]!];
      const whole = this.wholeWord(mapped);
      if (whole !== undefined) {
        if (whole >= 0) ids.push(whole);
        return;
      }
    }
    if (this.syms.length < n) this.syms = new Int32Array(n * 2);
    const s = this.syms;
    for (let i = 0; i < n; i++) s[i] = this.byteSym[this.bytes[i]!]!;
    const len = this.merges.merge(s, n);
    for (let i = 0; i < len; i++) {
      const id = this.symOut[s[i]!]!;
      if (id >= 0) ids.push(id);
    }
  }

}
