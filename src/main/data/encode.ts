// Turns one example into token ids with its loss mask, packed into one Uint32 per token: the id in
// the low 31 bits, the top bit set where the token carries no loss (prompt, user and system turns,
// BOS). The same layout is what the token cache stores.
//
// Loss masks for chats: the conversation is rendered once whole, and once more with every assistant
// content between two private-use markers (U+E000, U+E001). When the marked render, markers
// removed, is the whole render (the template copies the content verbatim, or trimmed: a second
// marked render tries the trimmed contents), the markers are exactly where each assistant turn's
// content lies, for any number of turns and also for templates that rewrite earlier turns (Qwen3
// drops the thinking block of all but the last answer). Each span then extends over the template's
// end-of-turn text, learnt once per encoder from a two-message render; a turn that calls tools
// extends over the calls the template writes after its content, up to its end-of-turn text. Otherwise, for chats of up to
// `maxPrefixRenderMessages`, each assistant turn i is rendered twice more (messages[:i] with the
// generation prompt, messages[:i+1] without); when both are prefixes of the whole render, the span
// is exactly the text between them. Last, the span is found by searching the assistant content in
// the render, extended over a special token right after it. Each span and the text between spans
// are tokenized separately and concatenated.
import { TemplateFatalError, TemplateRenderError, type ChatTemplate } from './chat-template';
import type { ChatMessage, Example, JsonValue } from './formats';
import type { TextTokenizer } from './tokenizer';

export const NO_LOSS = 0x80000000;
export const TOKEN_ID_MASK = 0x7fffffff;

/** How many of `tokens` carry loss (have no NO_LOSS flag). */
export function lossCount(tokens: Uint32Array): number {
  let n = 0;
  for (let i = 0; i < tokens.length; i++) if ((tokens[i]! & NO_LOSS) === 0) n++;
  return n;
}

/** A problem with this example only; the line is skipped and reported. */
export class EncodeProblem extends Error {
  override name = 'EncodeProblem';
}

export interface EncoderOptions {
  /** Longest example kept, in tokens. */
  maxExampleTokens: number;
  /** Conversations longer than this use the single-render span search instead of prefix renders. */
  maxPrefixRenderMessages: number;
}

// Prefix renders cost O(messages²) interpreter steps, so long chats take the single-render path.
export const DEFAULT_ENCODER_OPTIONS: EncoderOptions = { maxExampleTokens: 1 << 22, maxPrefixRenderMessages: 16 };

type Span = [start: number, end: number];
type Render = (messages: readonly ChatMessage[], addGenerationPrompt: boolean) => string;

/** A very long example is kept as parts of this many tokens (4 MiB each). */
const PART_TOKENS = 1 << 20;

/** Names how chat masks are located; part of the token cache key, so a change rebuilds chat entries. */
export const CHAT_MASK_METHOD = 'marked-render-3';

/** A render without a generation prompt, or null where the template refuses the chat. */
function renderOrNull(render: Render, messages: readonly ChatMessage[]): string | null {
  try {
    return render(messages, false);
  } catch (err) {
    if (err instanceof TemplateRenderError) return null;
    throw err;
  }
}

const OPEN = '\uE000';
const CLOSE = '\uE001';

export class ExampleEncoder {
  private buf = new Uint32Array(4096);
  /** Tokens in `buf`; `parts` holds the full parts of a very long example before it, `spilled` tokens. */
  private n = 0;
  private parts: Uint32Array[] = [];
  private spilled = 0;
  private spill: ((part: Uint32Array) => void) | null = null;
  private readonly opts: EncoderOptions;
  /** What the template writes around an assistant turn, learnt on the first chat. */
  private probed: { turnEnd: string | null; generationPrompt: string | null } | null = null;

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly template: ChatTemplate | null,
    options: Partial<EncoderOptions> = {},
  ) {
    this.opts = { ...DEFAULT_ENCODER_OPTIONS, ...options };
  }

  private push(ids: readonly number[], loss: boolean): void {
    const flag = loss ? 0 : NO_LOSS;
    for (let i = 0; i < ids.length; i++) this.put((ids[i]! | flag) >>> 0);
  }

  private put(v: number): void {
    if (this.n >= this.buf.length || this.spilled + this.n >= this.opts.maxExampleTokens) this.grow(1);
    this.buf[this.n++] = v;
  }

  private text(text: string, loss: boolean): void {
    if (text.length === 0) return;
    this.reserve(text.length, loss);
    this.tokenizer.encodeTo(text, this.sink);
  }

  /** A text given as pieces joined by newlines (a long document), never joined here. */
  private lines(lines: readonly string[], loss: boolean): void {
    this.reserve(lines.reduce((n, l) => n + l.length + 1, 0), loss);
    this.tokenizer.encodeLinesTo(lines, this.sink);
  }

  /**
   * Before a text of `chars` characters: a long one gets its room at once (about a token per 3
   * characters, up to a part) instead of growing into it; its ids take `loss`'s flag.
   */
  private reserve(chars: number, loss: boolean): void {
    const room = Math.min(PART_TOKENS, this.n + Math.ceil(chars / 3));
    if (room > this.buf.length && this.spilled + room <= this.opts.maxExampleTokens) this.grow(room - this.n);
    this.flag = loss ? 0 : NO_LOSS;
  }

  /** Takes ids one at a time into the buffer, with the flag of the text being encoded. */
  private flag = 0;
  private readonly sink = { push: (id: number): void => this.put((id | this.flag) >>> 0) };

  /**
   * Room for `more` tokens: a bigger buffer up to a part's size; past it, the full part is set
   * aside and a new one begun, so a very long example is never copied into a bigger buffer (which
   * would hold both at once).
   */
  private grow(more: number): void {
    if (this.spilled + this.n + more > this.opts.maxExampleTokens) {
      throw new EncodeProblem(`the example has more than ${this.opts.maxExampleTokens} tokens, the limit per example`);
    }
    if (this.buf.length >= PART_TOKENS) {
      this.spilled += this.n;
      if (this.spill) {
        // Handed on (written out): the buffer is free again.
        this.spill(this.buf.subarray(0, this.n));
      } else {
        this.parts.push(this.buf.subarray(0, this.n));
        this.buf = new Uint32Array(PART_TOKENS);
      }
      this.n = 0;
      return;
    }
    const next = new Uint32Array(Math.min(PART_TOKENS, Math.max(this.buf.length + (this.buf.length >> 1), this.n + more)));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
  }

  /** Ends a document with the tokenizer's suffix, then EOS unless the suffix already ends with it. */
  private close(loss: boolean): void {
    const tok = this.tokenizer;
    this.push(tok.suffix, loss);
    if (tok.suffix.at(-1) !== tok.eosId) this.push([tok.eosId], loss);
  }

  /**
   * Encodes `example`. The result is a view into a buffer reused by the next call: copy it to keep
   * it. Throws EncodeProblem / TemplateRenderError for this example, TemplateFatalError to stop.
   */
  encode(example: Example): Uint32Array {
    const parts = this.encodeParts(example);
    if (parts.length === 1) return parts[0]!;
    const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /**
   * Encodes `example` as consecutive parts: one for most examples, several of PART_TOKENS for a
   * very long one, which then never exists as one array. Views reused by the next call. With
   * `spill`, the full parts of a very long example are handed to it as they fill (and only the
   * last is returned): the example is then never held whole.
   */
  encodeParts(example: Example, spill?: (part: Uint32Array) => void): Uint32Array[] {
    this.n = 0;
    this.parts = [];
    this.spilled = 0;
    this.spill = spill ?? null;
    // After a very long example the buffer is let go, so that it is not held for the whole file.
    if (this.buf.length >= PART_TOKENS) this.buf = new Uint32Array(4096);
    switch (example.kind) {
      case 'text':
        this.push(this.tokenizer.prefix, false);
        if (example.lines) this.lines(example.lines, true);
        else this.text(example.text, true);
        this.close(true);
        break;
      case 'completion':
        this.push(this.tokenizer.prefix, false);
        this.text(example.prompt, false);
        this.text(example.completion, true);
        this.close(true);
        break;
      case 'chat':
        this.chat(example.messages, example.tools);
        break;
    }
    if (this.spilled + this.n === 0) throw new EncodeProblem('the example encodes to no tokens');
    const parts = [...this.parts, this.buf.subarray(0, this.n)];
    this.parts = [];
    this.spill = null;
    return parts;
  }

  private chat(messages: ChatMessage[], tools: readonly JsonValue[] | undefined): void {
    const template = this.template;
    if (!template) throw new TemplateFatalError(`the tokenizer of ${this.tokenizer.origin} has no chat template, which chat datasets need`);
    const render = (msgs: readonly ChatMessage[], addGenerationPrompt: boolean) => template.render(msgs, { addGenerationPrompt, ...(tools ? { tools } : {}) });
    const full = render(messages, false);
    const spans =
      this.markedSpans(render, messages, full) ??
      (messages.length <= this.opts.maxPrefixRenderMessages ? this.prefixSpans(render, messages, full) : null) ??
      this.searchSpans(messages, full);
    // A turn's calls must be in its span: a template that leaves calls out would train an empty turn.
    messages.filter((m) => m.role === 'assistant').forEach((m, turn) => {
      const span = full.slice(spans[turn]![0], spans[turn]![1]);
      if (m.tool_calls?.some((c) => !span.includes(c.function.name))) {
        throw new EncodeProblem(`assistant turn ${turn + 1} calls tools, and the chat template of ${this.tokenizer.origin} does not write tool calls`);
      }
    });
    let at = 0;
    for (const [start, end] of spans) {
      this.text(full.slice(at, start), false);
      this.text(full.slice(start, end), true);
      at = end;
    }
    this.text(full.slice(at), false);
  }

  /**
   * Assistant spans from one render with each assistant content between markers, or null when the
   * template does not copy the contents as they are (or trimmed). A turn that calls tools spans to
   * its end-of-turn text, over the calls the template writes after the content; one that only calls
   * tools (no content to mark) spans from the generation prompt before it to its end-of-turn text.
   */
  private markedSpans(render: Render, messages: ChatMessage[], full: string): Span[] | null {
    const assistants = messages.filter((m) => m.role === 'assistant');
    if (assistants.length === 0) return [];
    if (messages.some((m) => m.content.includes(OPEN) || m.content.includes(CLOSE))) return null;
    const callsOnly = (m: ChatMessage) => m.tool_calls !== undefined && m.content === '';
    const markedTurns = assistants.filter((m) => !callsOnly(m)).length;
    for (const trim of [false, true]) {
      const marked = messages.map((m) => (m.role === 'assistant' && !callsOnly(m) ? { ...m, content: `${OPEN}${trim ? m.content.trim() : m.content}${CLOSE}` } : m));
      const text = renderOrNull(render, marked);
      if (text === null) return null;
      // Remove the markers, noting where they were in the text without them; they must alternate.
      const contents: Span[] = [];
      let stripped = '';
      let from = 0;
      let open = -1;
      let inOrder = true;
      for (;;) {
        const o = text.indexOf(OPEN, from);
        const c = text.indexOf(CLOSE, from);
        const at = o < 0 ? c : c < 0 ? o : Math.min(o, c);
        if (at < 0) break;
        stripped += text.slice(from, at);
        from = at + 1;
        if ((at === o) !== open < 0) {
          inOrder = false;
          break;
        }
        if (at === o) open = stripped.length;
        else {
          contents.push([open, stripped.length]);
          open = -1;
        }
      }
      if (!inOrder) continue;
      stripped += text.slice(from);
      if (contents.length !== markedTurns || open >= 0 || stripped !== full) continue;
      return this.turnSpans(render, messages, contents, full);
    }
    return null;
  }

  /** Each assistant turn's span from its content's place, extended over its end-of-turn text. */
  private turnSpans(render: Render, messages: ChatMessage[], contents: Span[], full: string): Span[] | null {
    const { turnEnd, generationPrompt } = this.probe(render);
    const specials = [...this.tokenizer.specialTokens].sort((a, b) => b.length - a.length);
    const spans: Span[] = [];
    let cursor = 0;
    let k = 0;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.role !== 'assistant') continue;
      let start: number;
      let end: number;
      if (m.tool_calls !== undefined && m.content === '') {
        if (!generationPrompt || !turnEnd) return null;
        const at = full.indexOf(generationPrompt, cursor);
        if (at < 0) return null;
        start = at + generationPrompt.length;
        // What the template writes before any content of this turn (Qwen3: an empty thinking block
        // in the last turn) is not the turn's output, as it is not for a turn with content.
        const before = this.beforeContent(render, messages, i, generationPrompt);
        if (before === null) return null;
        if (before.length > 0 && full.startsWith(before, start)) start += before.length;
        end = start;
      } else {
        [start, end] = contents[k++]!;
      }
      if (start < cursor) return null;
      if (m.tool_calls !== undefined) {
        // The calls come after the content; the turn ends at the first end-of-turn text after it.
        const close = turnEnd ? full.indexOf(turnEnd, end) : -1;
        if (close < 0 || (k < contents.length && close >= contents[k]![0])) return null;
        // Nothing between the content (or the turn's start) and its end: the template left the calls out.
        if (close === end) throw new EncodeProblem(`assistant turn ${spans.length + 1} calls tools, and the chat template of ${this.tokenizer.origin} does not write tool calls`);
        end = close + turnEnd!.length;
      } else if (turnEnd !== null && full.startsWith(turnEnd, end)) {
        end += turnEnd.length;
      } else {
        const marker = specials.find((t) => full.startsWith(t, end));
        if (marker) end += marker.length;
      }
      spans.push([start, end]);
      cursor = end;
    }
    return spans;
  }

  /**
   * The text the template writes between the generation prompt and the content of assistant turn
   * `i`, seen by rendering the chat with that turn's calls replaced by a marked content; null when
   * the template does not show it plainly.
   */
  private beforeContent(render: Render, messages: ChatMessage[], i: number, generationPrompt: string): string | null {
    const probe = messages.map((m, j) => (j === i ? { role: 'assistant' as const, content: OPEN } : m));
    const text = renderOrNull(render, probe);
    if (text === null) return null;
    const open = text.indexOf(OPEN);
    const at = open < 0 ? -1 : text.lastIndexOf(generationPrompt, open);
    return at < 0 ? null : text.slice(at + generationPrompt.length, open);
  }

  /**
   * What the template writes right after an assistant content, and its generation prompt, from a
   * two-message chat (null where the template does not show them plainly).
   */
  private probe(render: Render): { turnEnd: string | null; generationPrompt: string | null } {
    if (this.probed) return this.probed;
    this.probed = { turnEnd: null, generationPrompt: null };
    try {
      const user: ChatMessage = { role: 'user', content: 'x' };
      const bare = render([user], false);
      const pre = render([user], true);
      const upto = render([user, { role: 'assistant', content: OPEN }], false);
      if (pre.startsWith(bare) && pre.length > bare.length) this.probed.generationPrompt = pre.slice(bare.length);
      const at = upto.indexOf(OPEN, upto.startsWith(pre) ? pre.length : 0);
      if (at >= 0 && !upto.includes(OPEN, at + 1)) this.probed.turnEnd = this.turnEndBeforeNextTurn(render, upto.slice(at + 1));
    } catch (err) {
      if (!(err instanceof TemplateRenderError)) throw err;
    }
    return this.probed;
  }

  /**
   * What ends an assistant turn, given what the template writes after the last one (`last`). Some
   * templates close every conversation with a header for the next answer whether or not it is
   * asked for (a Llama 3 template: \`<|eot_id|><|start_header_id|>assistant<|end_header_id|>\`);
   * that header is not the turn's. A turn followed by a user turn shows where the turn ends: before
   * the user turn's header (the text a lone user turn has before its content, less any BOS or
   * system text in front of it). Null when the two renders disagree.
   */
  private turnEndBeforeNextTurn(render: Render, last: string): string | null {
    const next = '\uE002';
    let between: string;
    let header: string;
    try {
      const text = render([{ role: 'user', content: 'x' }, { role: 'assistant', content: OPEN }, { role: 'user', content: next }], false);
      const lone = render([{ role: 'user', content: next }], false);
      const o = text.indexOf(OPEN);
      const y = text.indexOf(next);
      if (o < 0 || y < o || !lone.includes(next)) return last;
      between = text.slice(o + 1, y);
      header = lone.slice(0, lone.indexOf(next));
    } catch (err) {
      if (err instanceof TemplateRenderError) return last;
      throw err;
    }
    if (between.startsWith(last)) return last;
    let k = 0;
    while (k < between.length && k < header.length && between[between.length - 1 - k] === header[header.length - 1 - k]) k++;
    // The header starts at a token: a cut inside a special token (`<|eot_id|>` and
    // `<|begin_of_text|>` both end in "|>") moves to its end.
    let cut = between.length - k;
    for (const t of this.tokenizer.specialTokens) {
      for (let p = between.indexOf(t); p >= 0 && p < cut; p = between.indexOf(t, p + 1)) if (p + t.length > cut) cut = p + t.length;
    }
    const end = between.slice(0, cut);
    return end.length > 0 && last.startsWith(end) ? end : null;
  }

  /** Assistant spans from prefix renders, or null when the template does not render prefixes. */
  private prefixSpans(render: Render, messages: ChatMessage[], full: string): Span[] | null {
    const spans: Span[] = [];
    let cursor = 0;
    for (let i = 0; i < messages.length; i++) {
      if (messages[i]!.role !== 'assistant') continue;
      let pre: string;
      let upto: string;
      try {
        pre = render(messages.slice(0, i), true);
        upto = render(messages.slice(0, i + 1), false);
      } catch (err) {
        if (err instanceof TemplateRenderError) return null; // e.g. a template refusing an empty or partial chat
        throw err;
      }
      if (pre.length < cursor || !upto.startsWith(pre) || !full.startsWith(upto)) return null;
      spans.push([pre.length, upto.length]);
      cursor = upto.length;
    }
    return spans;
  }

  /** Assistant spans found by searching each assistant content in order in the full render. */
  private searchSpans(messages: ChatMessage[], full: string): Span[] {
    const spans: Span[] = [];
    const specials = [...this.tokenizer.specialTokens].sort((a, b) => b.length - a.length);
    let cursor = 0;
    let turn = 0;
    for (const m of messages) {
      if (m.role !== 'assistant') continue;
      turn++;
      if (m.tool_calls) throw new EncodeProblem(`assistant turn ${turn} calls tools, and the chat template renders the conversation in a way that hides where the calls are`);
      const content = m.content.length > 0 && full.indexOf(m.content, cursor) >= 0 ? m.content : m.content.trim();
      const start = full.indexOf(content, cursor);
      if (start < 0) throw new EncodeProblem(`assistant turn ${turn} cannot be found in the conversation as the chat template renders it`);
      let end = start + content.length;
      const marker = specials.find((s) => full.startsWith(s, end));
      if (marker) end += marker.length;
      spans.push([start, end]);
      cursor = end;
    }
    return spans;
  }
}
