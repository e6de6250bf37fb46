// Reading run configuration files: JSON and YAML, syntax errors with line and column, content errors
// naming the field, and the size cap.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { loadRunConfigFile, MAX_CONFIG_BYTES, parseRunConfigText } from '../../../src/main/runner/config-file';
import { tempDir } from '../../helpers/temp';

const dir = tempDir('dynamics-config-');

const yamlConfig = `# a run
name: code vs web
model:
  path: models/tiny
  adapter: { kind: lora, rank: 16, alpha: 32 }
sources:
  - { id: code, dataset: code-corpus }
  - { id: web, dataset: web-corpus, size: 1200000 }
domains:
  - { id: code-eval, dataset: code-corpus, role: target }
  - id: web-eval
    dataset: web-corpus
    role: constraint
    reference: { kind: relative, tolerance: 0.02 }
dynamics:
  schedule: { kind: preset, preset: dense }
  margin: 0.01
beyondPaper:
  backtracking: { enabled: true }
`;

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

describe('run config files', () => {
  it('reads YAML and JSON into the same validated object', () => {
    const file = path.join(dir, 'run.yaml');
    writeFileSync(file, yamlConfig);
    const fromYaml = loadRunConfigFile(file);
    expect(fromYaml.model.adapter).toEqual({ kind: 'lora', rank: 16, alpha: 32, dropout: 0, targets: ['q_proj', 'v_proj'] });
    expect(fromYaml.domains[1]?.reference).toEqual({ kind: 'relative', tolerance: 0.02 });
    expect(fromYaml.beyondPaper.backtracking.enabled).toBe(true);
    const json = path.join(dir, 'run.json');
    writeFileSync(json, JSON.stringify(fromYaml));
    expect(loadRunConfigFile(json)).toEqual(fromYaml);
  });

  it('names the line of a syntax error', () => {
    expect(messageOf(() => parseRunConfigText('model:\n  path: x\nsources: [\n', 'a.yaml'))).toMatch(/^a\.yaml:4:1 is not valid YAML \(/);
    expect(messageOf(() => parseRunConfigText('model:\n  path: x\nmodel: 2\n', 'b.yml'))).toBe('b.yml:3:1 is not valid YAML (Map keys must be unique)');
    expect(messageOf(() => parseRunConfigText('{"name": "x",}', 'c.json'))).toMatch(/^c\.json(:\d+:\d+)? is not valid JSON/);
  });

  it('says in one sentence, naming the file, that a YAML alias bomb is refused (no stack, no internal error)', () => {
    const bomb = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]'];
    for (const c of 'bcdefghi') bomb.push(`${c}: &${c} [${Array(9).fill(`*${String.fromCharCode(c.charCodeAt(0) - 1)}`).join(', ')}]`);
    const file = path.join(dir, 'bomb.yaml');
    writeFileSync(file, `${bomb.join('\n')}\nname: x\n`);
    const message = messageOf(() => loadRunConfigFile(file));
    expect(message).toBe(`${file} is not usable YAML: it expands its aliases (*name) more than 100 times, as an "alias bomb" does; write the values out instead`);
    expect(messageOf(() => parseRunConfigText('a: *nowhere\n', 'c.yaml'))).toMatch(/^c\.yaml(:\d+:\d+)? is not (valid|usable) YAML \(/);
  });

  it('names the line and column of a JSON syntax error, without quoting the file back', () => {
    expect(messageOf(() => parseRunConfigText('{\n  "name": "x",\n}', 'c.json'))).toMatch(/^c\.json:3:1 is not valid JSON \(/);
    expect(messageOf(() => parseRunConfigText('', 'empty.json'))).toMatch(/^empty\.json:1:1 is not valid JSON \(unexpected end/);
    expect(messageOf(() => parseRunConfigText(`{"name": "${'x'.repeat(5000)}" oops}`, 'long.json')).length).toBeLessThan(300);
  });

  it('names the field of a content error', () => {
    expect(messageOf(() => parseRunConfigText(yamlConfig.replace('preset: dense', 'preset: sparse'), 'run.yaml'))).toBe(
      'invalid run.yaml: dynamics.schedule.preset must be one of "none", "light", "dense" (got "sparse")',
    );
    expect(messageOf(() => parseRunConfigText(yamlConfig.replace('role: constraint', 'role: guard'), 'run.yaml'))).toContain('domains[1].role must be one of');
  });

  it('refuses missing and oversized files', () => {
    expect(messageOf(() => loadRunConfigFile(path.join(dir, 'nope.yaml')))).toContain('no such file');
    const big = path.join(dir, 'big.json');
    writeFileSync(big, ' '.repeat(MAX_CONFIG_BYTES + 1));
    expect(messageOf(() => loadRunConfigFile(big))).toContain('a run config may be at most');
  });
});
