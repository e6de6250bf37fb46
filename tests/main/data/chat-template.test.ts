// The chat-template sandbox: real templates render; templates that reach outside, loop, or blow
// up fail cleanly with a sentence, within bounded time and memory.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { ChatTemplate, DEFAULT_TEMPLATE_LIMITS, TemplateFatalError, TemplateRenderError } from '../../../src/main/data/chat-template';
import type { ChatMessage } from '../../../src/main/data/formats';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { CHATML, LLAMA3 } from './helpers';

const chat: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Grüße?' },
  { role: 'assistant', content: 'Hallo 世界.' },
];

function template(source: string, limits = DEFAULT_TEMPLATE_LIMITS): ChatTemplate {
  return new ChatTemplate(source, 'the test model', { bos: '<s>', eos: '</s>' }, limits);
}

function failure(source: string, limits = DEFAULT_TEMPLATE_LIMITS): Error {
  try {
    template(source, limits).render(chat, { addGenerationPrompt: false });
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected ${source} to fail`);
}

describe('rendering real templates', () => {
  it('renders the fixtures’ ChatML and Llama 3 templates, with and without the generation prompt', async () => {
    const chatml = await loadTokenizer(CHATML);
    const t = new ChatTemplate(chatml.chatTemplate!, chatml.origin, { bos: chatml.bosToken, eos: chatml.eosToken });
    expect(t.render(chat, { addGenerationPrompt: false })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nGrüße?<|im_end|>\n<|im_start|>assistant\nHallo 世界.<|im_end|>\n',
    );
    expect(t.render(chat.slice(0, 2), { addGenerationPrompt: true })).toMatch(/<\|im_start\|>assistant\n$/);

    const llama = await loadTokenizer(LLAMA3);
    const l = new ChatTemplate(llama.chatTemplate!, llama.origin, { bos: llama.bosToken, eos: llama.eosToken });
    expect(l.render(chat.slice(1, 2), { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nGrüße?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
  });

  it('gives the template the messages, bos/eos tokens and namespace(), and nothing that varies', () => {
    const t = template('{{ bos_token }}{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}{{ eos_token }}');
    expect(t.render(chat, { addGenerationPrompt: false })).toBe('<s>3</s>');
    // No clock: a template that would print today's date gets its fallback, so renders are reproducible.
    const clock = template('{% if strftime_now is defined %}{{ strftime_now("%Y") }}{% else %}no clock{% endif %}');
    expect(clock.render(chat, { addGenerationPrompt: false })).toBe('no clock');
    const host = template('[{{ process }}{{ globalThis }}{{ require }}{{ env }}]');
    expect(host.render(chat, { addGenerationPrompt: false })).toBe('[]');
  });

  it('reports a template that does not parse as a UserError naming the model', () => {
    expect(() => template('{% for m in messages %}')).toThrow(UserError);
    expect(() => template('{% for m in messages %}')).toThrow(/the chat template of the test model does not parse/);
  });

  it('turns raise_exception and runtime errors into a per-conversation failure', () => {
    const raised = failure("{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with a user turn') }}{% endif %}");
    expect(raised).toBeInstanceOf(TemplateRenderError);
    expect(raised.message).toBe('the chat template refused the conversation: Conversations must start with a user turn');
    const broken = failure('{{ messages[0].missing + 1 }}');
    expect(broken).toBeInstanceOf(TemplateRenderError);
  });
});

describe('the sandbox', () => {
  it('stops templates that probe for host internals, naming the (outermost) attribute', () => {
    for (const [source, attr] of [
      ['{{ messages.__class__.__mro__ }}', '__mro__'],
      ["{{ ''.constructor.constructor('return process')() }}", 'constructor'],
      ["{{ messages['constructor'] }}", 'constructor'],
      ['{{ raise_exception.__globals__ }}', '__globals__'],
      ['{{ namespace.__init__.__globals__.os }}', '__globals__'],
      ['{{ messages[0].prototype }}', 'prototype'],
    ] as const) {
      const err = failure(source);
      expect(err, source).toBeInstanceOf(TemplateFatalError);
      expect(err.message).toBe(`the chat template of the test model tries to read the attribute "${attr}", which is outside its sandbox`);
    }
  });

  it('has nothing to call outside the template: unknown functions fail, unknown names are empty', () => {
    for (const source of ["{{ os.popen('id').read() }}", '{{ cycler.next() }}', "{{ lipsum() }}", "{{ self.render() }}"]) {
      const err = failure(source);
      expect(err, source).toBeInstanceOf(TemplateRenderError);
      expect(err.message).toMatch(/not a function/);
    }
    // Computed names that dodge the attribute check find nothing: values have no host prototype.
    expect(template("{{ messages[('con' ~ 'structor')] }}|{{ (messages|first)['__pro' ~ 'to__'] }}").render(chat, { addGenerationPrompt: false })).toBe('|');
  });

  it('stops a template that loops, by its step budget (default limits)', () => {
    const source = '{% set big = range(3000) %}{% for i in big %}{% for j in big %}{% endfor %}{% endfor %}';
    const err = failure(source);
    expect(err).toBeInstanceOf(TemplateFatalError);
    expect(err.message).toMatch(/^the chat template of the test model did not finish within (500000 evaluation steps|10000 ms); it probably loops or is hostile, so it was stopped$/);
  });

  it('stops templates that build huge lists or strings before they exhaust memory', () => {
    expect(failure('{% for i in range(1000000000) %}{% endfor %}').message).toMatch(/built lists of more than 2097152 items/);
    const doubling = "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}";
    expect(failure(doubling).message).toMatch(/built more than 536870912 characters of strings/);
    const lists = '{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}';
    expect(failure(lists).message).toMatch(/built lists of more than/);
    const indent = failure('{{ messages|tojson(indent=100000000) }}');
    expect(indent).toBeInstanceOf(TemplateRenderError);
    expect(indent.message).toMatch(/tojson for an indent of 100000000, more than the limit of 32/);
  });

  it('caps the output size', () => {
    const limits = { ...DEFAULT_TEMPLATE_LIMITS, maxOutputChars: 50 };
    const err = failure('{% for i in range(100) %}xx{% endfor %}', limits);
    expect(err).toBeInstanceOf(TemplateRenderError);
    expect(err.message).toMatch(/produced 200 characters, more than the limit of 50/);
  });
});
