// Loading model tokenizers: special-token policy (BOS from the post-processor or the config), the
// identity hash, the chat template source, and refusals of broken folders.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { tempDir } from '../../helpers/temp';
import { FIXTURES } from './helpers';
const dir = tempDir('dynamics-data-tok-');

/** A copy of a fixture folder with its tokenizer_config.json edited. */
function variant(name: string, edit: (config: Record<string, unknown>) => void): string {
  const dest = path.join(dir, `${name}-${Math.random().toString(36).slice(2)}`);
  cpSync(path.join(FIXTURES, name), dest, { recursive: true });
  const cfgFile = path.join(dest, 'tokenizer_config.json');
  const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  edit(cfg);
  writeFileSync(cfgFile, JSON.stringify(cfg));
  return dest;
}

describe('loadTokenizer', () => {
  it('loads a GPT-2/Qwen style tokenizer: no BOS, EOS and pad from the config', async () => {
    const tok = await loadTokenizer(path.join(FIXTURES, 'tiny-chatml'));
    expect(tok.prefix).toEqual([]);
    expect(tok.suffix).toEqual([]);
    expect(tok.eosToken).toBe('<|endoftext|>');
    expect(tok.eosId).toBe(tok.encode('<|endoftext|>')[0]);
    expect(tok.padId).toBe(tok.eosId);
    expect(tok.chatTemplate).toContain('<|im_start|>');
    expect(tok.specialTokens).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    // Byte-level BPE round-trips any text, non-ASCII included.
    const text = 'Grüße, 世界! the end';
    expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('loads a Llama 3 style tokenizer: BOS from the post-processor, bos_token given as an object', async () => {
    const tok = await loadTokenizer(path.join(FIXTURES, 'tiny-llama3'));
    const bos = tok.encode('<|begin_of_text|>')[0]!;
    expect(tok.bosToken).toBe('<|begin_of_text|>');
    expect(tok.prefix).toEqual([bos]);
    expect(tok.suffix).toEqual([]);
    expect(tok.encode('the')).not.toContain(bos); // encode never adds specials itself
  });

  it('lets add_bos_token / add_eos_token in the config override the post-processor', async () => {
    const noBos = await loadTokenizer(variant('tiny-llama3', (c) => (c.add_bos_token = false)));
    expect(noBos.prefix).toEqual([]);
    const eos = await loadTokenizer(variant('tiny-llama3', (c) => (c.add_eos_token = true)));
    expect(eos.suffix).toEqual([eos.eosId]);
  });

  it('hashes what changes encoding, not the chat template', async () => {
    const base = await loadTokenizer(path.join(FIXTURES, 'tiny-chatml'));
    const again = await loadTokenizer(path.join(FIXTURES, 'tiny-chatml'));
    const newTemplate = await loadTokenizer(variant('tiny-chatml', (c) => (c.chat_template = '{{ messages[0].content }}')));
    const newEos = await loadTokenizer(variant('tiny-chatml', (c) => (c.eos_token = '<|im_end|>')));
    expect(again.hash).toBe(base.hash);
    expect(newTemplate.hash).toBe(base.hash);
    expect(newTemplate.chatTemplate).toBe('{{ messages[0].content }}');
    expect(newEos.hash).not.toBe(base.hash);
  });

  it('prefers chat_template.jinja beside the config, and picks the "default" of named templates', async () => {
    const withFile = variant('tiny-chatml', () => undefined);
    writeFileSync(path.join(withFile, 'chat_template.jinja'), 'FROM FILE');
    expect((await loadTokenizer(withFile)).chatTemplate).toBe('FROM FILE');
    const named = variant('tiny-chatml', (c) => (c.chat_template = [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }]));
    expect((await loadTokenizer(named)).chatTemplate).toBe('D');
  });

  it('refuses broken folders with one sentence naming the file', async () => {
    const cases: [string, RegExp][] = [
      [path.join(dir, 'missing'), /does not exist/],
      [variant('tiny-chatml', (c) => delete c.eos_token), /names no eos_token/],
      [variant('tiny-chatml', (c) => (c.eos_token = '<nope>')), /eos_token "<nope>" is not in the vocabulary/],
      [variant('tiny-chatml', (c) => (c.chat_template = 42)), /"chat_template" must be a string/],
    ];
    const badJson = variant('tiny-chatml', () => undefined);
    writeFileSync(path.join(badJson, 'tokenizer.json'), '{"model": ');
    cases.push([badJson, /tokenizer\.json is not valid JSON/]);
    const badModel = variant('tiny-chatml', () => undefined);
    writeFileSync(path.join(badModel, 'tokenizer.json'), '{"model": {"type": "Nope"}, "added_tokens": []}');
    cases.push([badModel, /tokenizer\.json cannot be loaded/]);
    for (const [folder, message] of cases) {
      const err = await loadTokenizer(folder).catch((e: unknown) => e);
      expect(err, folder).toBeInstanceOf(UserError);
      expect((err as Error).message).toMatch(message);
    }
  });
});
