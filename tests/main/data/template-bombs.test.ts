// Chat templates that used to take the whole process down (V8 aborts on "invalid size" when a
// replace's match list outgrows a FixedArray, and runs out of heap when a split builds tens of
// millions of strings): each is refused in words and the process lives on. Then the same through
// a dataset import: the message names the user's file, and nothing is left in the datasets folder;
// an import cut short by a dead process is swept at the next start-up.
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { JsonDatasetCatalog } from '../../../src/main/data/catalog';
import { IMPORTING_PREFIX, DatasetRegistry } from '../../../src/main/data/registry';
import { TokenCache } from '../../../src/main/data/token-cache';
import { loadTokenizer } from '../../../src/main/data/tokenizer';
import { dataLayout } from '../../../src/main/paths';
import { tempDir } from '../../helpers/temp';
import { CHATML, writeJsonl } from './helpers';

const RENDER = path.join(import.meta.dirname, 'fixtures', 'render-template.ts');

/** A string of 2^26 characters built by doubling, which every bomb below starts from. */
const BIG = "{% set ns = namespace(s='a') %}{% for i in range(26) %}{% set ns.s = ns.s + ns.s %}{% endfor %}";

const BOMBS = [
  // The reported one: a string doubled through replace, each round's size charged only after it.
  "{% set ns = namespace(s='aa') %}{% for i in range(40) %}{% set ns.s = ns.s.replace('a', ns.s) %}{% endfor %}{{ ns.s }}",
  `${BIG}{{ ns.s.replace('a', 'bb')|length }}`,
  `${BIG}{{ ns.s|replace('a', 'bb')|length }}`,
  `${BIG}{% filter replace('a', 'bb') %}{{ ns.s }}{% endfilter %}`,
  `${BIG}{% set f = ns.s['rep' + 'lace'] %}{{ f('a', 'bb')|length }}`,
  `${BIG}{{ ns.s.split('a')|length }}`,
  `${BIG}{{ ns.s.split()|length }}`,
  `${BIG}{{ ns.s[::2]|length }}`,
  `${BIG}{{ ns.s|list|length }}`,
  `${BIG}{{ ns.s|join(',')|length }}`,
];

describe('hostile chat templates', () => {
  it('are refused in words, and the process survives every one of them', async () => {
    // A modest heap, as in a busy desktop app: memory blow-ups show instead of hiding in a big one.
    const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=768', '--import', 'tsx', RENDER, JSON.stringify(BOMBS)], {
      timeout: 120_000,
      maxBuffer: 1 << 20,
    });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(BOMBS.length);
    for (const [i, line] of lines.entries()) {
      expect(line, BOMBS[i]).toMatch(/^refused the chat template of the hostile model .*; it probably loops or is hostile, so it was stopped$/);
    }
    expect(lines[0]).toMatch(/would build a string of \d+ characters with replace/);
    expect(lines[1]).toMatch(/would replace more than \d+ matches/);
  }, 150_000);

  it('still render what ordinary templates do with replace, split, slices and filters', async () => {
    const ordinary = "{% for m in messages %}{{ m.content.replace('h', 'H') }}|{{ m['content'].split('i')|join('-') }}|{{ m.content[::-1] }}|{{ m.content|indent(2) }}{% endfor %}";
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', RENDER, JSON.stringify([ordinary])]);
    expect(stdout.trim()).toBe(`ok ${'Hi|h-|ih|hi'.length}`);
  });

  it('stop a dataset import with a message naming the user’s file, leaving nothing behind', async () => {
    const dir = tempDir('dynamics-template-bomb-');
    const model = path.join(dir, 'hostile-model');
    cpSync(CHATML, model, { recursive: true });
    const configFile = path.join(model, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    config.chat_template = BOMBS[0];
    writeFileSync(configFile, JSON.stringify(config));
    const layout = dataLayout(path.join(dir, 'home'));
    const registry = new DatasetRegistry(new JsonDatasetCatalog(layout.datasets), layout.datasets, new TokenCache(layout.tokenCache));
    const chats = writeJsonl(path.join(dir, 'my-chats.jsonl'), [{ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] }]);

    const failure = await registry.import(chats, { name: 'chats', tokenizer: await loadTokenizer(model) }).then(() => null, (err: Error) => err);
    expect(failure?.message).toMatch(new RegExp(`^${chats.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: the chat template of .*hostile-model.* with replace`));
    expect(failure?.message).not.toContain(IMPORTING_PREFIX);
    expect(readdirSync(layout.datasets)).toEqual([]);
  }, 60_000);

  it('an import cut short by a process that died is swept at start-up; live ones stay', async () => {
    const dir = tempDir('dynamics-template-sweep-');
    const layout = dataLayout(path.join(dir, 'home'));
    mkdirSync(layout.datasets, { recursive: true });
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid!)));
    const names = {
      dead: `${IMPORTING_PREFIX}${deadPid}-0a1b2c3d-chats`,
      mine: `${IMPORTING_PREFIX}${process.pid}-0a1b2c3d-chats`,
      parent: `${IMPORTING_PREFIX}${process.ppid}-0a1b2c3d-chats`,
      older: `${IMPORTING_PREFIX}chats-0a1b2c3d`,
    };
    for (const name of Object.values(names)) mkdirSync(path.join(layout.datasets, name, 'sub'), { recursive: true });
    const registry = new DatasetRegistry(new JsonDatasetCatalog(layout.datasets), layout.datasets, new TokenCache(layout.tokenCache));
    expect(registry.sweepInterruptedImports()).toEqual([names.dead]);
    // A folder named the way older versions named it goes once it is a day old.
    expect(registry.sweepInterruptedImports(Date.now() + 25 * 3600 * 1000)).toEqual([names.older]);
    expect(existsSync(path.join(layout.datasets, names.mine))).toBe(true);
    expect(existsSync(path.join(layout.datasets, names.parent))).toBe(true);
  });
});
