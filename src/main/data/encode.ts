// Turns one example into token ids with its loss mask, packed into one Uint32 per token: the id in
// the low 31 bits, the top bit set where the token carries no loss (prompt, user and system turns,
// BOS). The same layout is what the token cache stores.
//
// Loss masks for chats: the conversation is rendered once whole, and for each assistant turn i
// twice more (messages[:i] with the generation prompt, messages[:i+1] without); when both are
// prefixes of the whole render, the assistant span is exactly the text between them (content plus
// the template's end-of-turn marker). Templates that rewrite earlier turns (e.g. dropping
// reasoning) break the prefix property; then, and for long conversations, the span is found by
// searching the assistant content in the render, extended over a special token right after it.
// Each span and the text between spans are tokenized separately and concatenated.
import { TemplateFatalError, TemplateRenderError, type ChatTemplate } from './chat-template';
import type { ChatMessage, Example } from './formats';
import type { TextTokenizer } from './tokenizer';

export const NO_LOSS = 0x80000000;
export const TOKEN_ID_MASK = 0x7fffffff;

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

export class ExampleEncoder {
  private buf = new Uint32Array(4096);
  private n = 0;
  private readonly opts: EncoderOptions;

  constructor(
    private readonly tokenizer: TextTokenizer,
    private readonly template: ChatTemplate | null,
    options: Partial<EncoderOptions> = {},
  ) {
    this.opts = { ...DEFAULT_ENCODER_OPTIONS, ...options };
  }

  private push(ids: readonly number[], loss: boolean): void {
    if (this.n + ids.length > this.opts.maxExampleTokens) {
      throw new EncodeProblem(`the example has more than ${this.opts.maxExampleTokens} tokens, the limit per example`);
    }
    if (this.n + ids.length > this.buf.length) {
      const next = new Uint32Array(Math.max(this.buf.length * 2, this.n + ids.length));
      next.set(this.buf.subarray(0, this.n));
      this.buf = next;
    }
    const flag = loss ? 0 : NO_LOSS;
    for (let i = 0; i < ids.length; i++) this.buf[this.n++] = (ids[i]! | flag) >>> 0;
  }

  private text(text: string, loss: boolean): void {
    if (text.length > 0) this.push(this.tokenizer.encode(text), loss);
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
    this.n = 0;
    switch (example.kind) {
      case 'text':
        this.push(this.tokenizer.prefix, false);
        this.text(example.text, true);
        this.close(true);
        break;
      case 'completion':
        this.push(this.tokenizer.prefix, false);
        this.text(example.prompt, false);
        this.text(example.completion, true);
        this.close(true);
        break;
      case 'chat':
        this.chat(example.messages);
        break;
    }
    if (this.n === 0) throw new EncodeProblem('the example encodes to no tokens');
    return this.buf.subarray(0, this.n);
  }

  private chat(messages: ChatMessage[]): void {
    const template = this.template;
    if (!template) throw new TemplateFatalError(`the tokenizer of ${this.tokenizer.origin} has no chat template, which chat datasets need`);
    const full = template.render(messages, { addGenerationPrompt: false });
    const spans = messages.length <= this.opts.maxPrefixRenderMessages ? this.prefixSpans(template, messages, full) : null;
    let at = 0;
    for (const [start, end] of spans ?? this.searchSpans(messages, full)) {
      this.text(full.slice(at, start), false);
      this.text(full.slice(start, end), true);
      at = end;
    }
    this.text(full.slice(at), false);
  }

  /** Assistant spans from prefix renders, or null when the template does not render prefixes. */
  private prefixSpans(template: ChatTemplate, messages: ChatMessage[], full: string): Span[] | null {
    const spans: Span[] = [];
    let cursor = 0;
    for (let i = 0; i < messages.length; i++) {
      if (messages[i]!.role !== 'assistant') continue;
      let pre: string;
      let upto: string;
      try {
        pre = template.render(messages.slice(0, i), { addGenerationPrompt: true });
        upto = template.render(messages.slice(0, i + 1), { addGenerationPrompt: false });
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
