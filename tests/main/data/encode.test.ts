// Loss masks: text trains on everything but BOS; prompt/completion on the completion and EOS;
// chats on assistant turns (content and end-of-turn marker) only, by either span method.
import { describe, expect, it } from 'vitest';
import { ChatTemplate, TemplateFatalError } from '../../../src/main/data/chat-template';
import { EncodeProblem, ExampleEncoder, NO_LOSS, TOKEN_ID_MASK } from '../../../src/main/data/encode';
import type { ChatMessage, Example } from '../../../src/main/data/formats';
import { loadTokenizer, type TextTokenizer } from '../../../src/main/data/tokenizer';
import { CHATML, LLAMA3 } from './helpers';

/** Decodes tokens as text with [[…]] around the runs that carry loss. */
function show(tok: TextTokenizer, tokens: Uint32Array): string {
  let out = '';
  let run: number[] = [];
  let loss: boolean | null = null;
  const flush = () => {
    if (run.length > 0) out += loss ? `[[${tok.decode(run)}]]` : tok.decode(run);
    run = [];
  };
  for (const v of tokens) {
    const l = (v & NO_LOSS) === 0;
    if (l !== loss) {
      flush();
      loss = l;
    }
    run.push(v & TOKEN_ID_MASK);
  }
  flush();
  return out;
}

function encoderFor(tok: TextTokenizer, options = {}): ExampleEncoder {
  const template = tok.chatTemplate ? new ChatTemplate(tok.chatTemplate, tok.origin, { bos: tok.bosToken, eos: tok.eosToken }) : null;
  return new ExampleEncoder(tok, template, options);
}

const chat: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi?' },
  { role: 'assistant', content: 'Héllo.' },
  { role: 'user', content: 'More?' },
  { role: 'assistant', content: ' No. ' },
];

describe('ExampleEncoder', () => {
  it('trains text on every token and its EOS, not on BOS', async () => {
    const chatml = await loadTokenizer(CHATML);
    expect(show(chatml, encoderFor(chatml).encode({ kind: 'text', text: 'the café' }))).toBe('[[the café<|endoftext|>]]');
    const llama = await loadTokenizer(LLAMA3);
    expect(show(llama, encoderFor(llama).encode({ kind: 'text', text: 'the café' }))).toBe('<|begin_of_text|>[[the café<|end_of_text|>]]');
  });

  it('trains prompt/completion pairs on the completion and EOS only', async () => {
    const llama = await loadTokenizer(LLAMA3);
    const ex: Example = { kind: 'completion', prompt: 'Q: 2+2=', completion: ' 4' };
    expect(show(llama, encoderFor(llama).encode(ex))).toBe('<|begin_of_text|>Q: 2+2=[[ 4<|end_of_text|>]]');
  });

  it('trains chats on assistant turns with their end-of-turn marker (ChatML and Llama 3 templates)', async () => {
    const chatml = await loadTokenizer(CHATML);
    expect(show(chatml, encoderFor(chatml).encode({ kind: 'chat', messages: chat }))).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi?<|im_end|>\n<|im_start|>assistant\n[[Héllo.<|im_end|>\n]]' +
        '<|im_start|>user\nMore?<|im_end|>\n<|im_start|>assistant\n[[ No. <|im_end|>\n]]',
    );
    const llama = await loadTokenizer(LLAMA3);
    expect(show(llama, encoderFor(llama).encode({ kind: 'chat', messages: chat }))).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n[[Héllo.<|eot_id|>]]<|start_header_id|>user<|end_header_id|>\n\nMore?<|eot_id|>' +
        '<|start_header_id|>assistant<|end_header_id|>\n\n[[No.<|eot_id|>]]',
    );
  });

  it('finds the same assistant tokens by content search as by prefix renders (long-chat path)', async () => {
    for (const dir of [CHATML, LLAMA3]) {
      const tok = await loadTokenizer(dir);
      const byPrefix = encoderFor(tok).encode({ kind: 'chat', messages: chat }).slice();
      const bySearch = encoderFor(tok, { maxPrefixRenderMessages: 0 }).encode({ kind: 'chat', messages: chat }).slice();
      // Same tokens; the search path leaves the newline after ChatML's <|im_end|> without loss.
      expect(Array.from(bySearch, (v) => v & TOKEN_ID_MASK)).toEqual(Array.from(byPrefix, (v) => v & TOKEN_ID_MASK));
      const lossIds = (t: Uint32Array) => tok.decode(Array.from(t).filter((v) => (v & NO_LOSS) === 0)).replace(/\n/g, '');
      expect(lossIds(bySearch)).toBe(lossIds(byPrefix));
    }
  });

  it('falls back to the content search when a template rewrites earlier turns', async () => {
    const tok = await loadTokenizer(CHATML);
    // Drops every assistant turn but the last, as reasoning templates do: prefixes no longer match.
    const source = "{% for m in messages %}{% if m.role != 'assistant' or loop.last %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    const enc = new ExampleEncoder(tok, new ChatTemplate(source, 'x', { bos: null, eos: tok.eosToken }));
    const messages: ChatMessage[] = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'first' },
      { role: 'user', content: 'b' },
      { role: 'assistant', content: 'second' },
    ];
    expect(() => enc.encode({ kind: 'chat', messages })).toThrow(EncodeProblem);
    expect(() => enc.encode({ kind: 'chat', messages })).toThrow('assistant turn 1 cannot be found in the conversation as the chat template renders it');
    const last = enc.encode({ kind: 'chat', messages: messages.slice(2) });
    expect(show(tok, last)).toBe('<|im_start|>user\nb<|im_end|>\n<|im_start|>assistant\n[[second<|im_end|>\n]]');
  });

  it('refuses examples over the token cap, and chats when the model has no template', async () => {
    const tok = await loadTokenizer(CHATML);
    expect(() => encoderFor(tok, { maxExampleTokens: 5 }).encode({ kind: 'text', text: 'the model learns from the data' })).toThrow(/more than 5 tokens/);
    const noTemplate = new ExampleEncoder(tok, null);
    expect(() => noTemplate.encode({ kind: 'chat', messages: chat })).toThrow(TemplateFatalError);
  });
});
