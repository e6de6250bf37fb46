// The bundled corpora and tokenizer are exactly what their script produces: every domain is
// regenerated from its pinned source and compared, byte for byte via SHA-256, with the committed
// manifest; the tokenizer is retrained from the committed train splits; the READMEs and the
// manifest are reassembled from those results. The full build takes ~20 s, so it runs whole
// rather than on a subset. Domains are separate tests so a missing Debian `manpages` package
// fails its own test with the install command while the others still say whether they match.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assemble, MANIFEST_PATH, type Manifest } from '../../../scripts/corpora/generate';
import { allDomains, buildDomain, domainFiles, type BuiltDomain } from '../../../scripts/corpora/pipeline';
import { sha256 } from '../../../scripts/corpora/text';
import { buildTokenizer, type TokenizerBuild } from '../../../scripts/corpora/tokenizer';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const resources = path.join(repoRoot, 'resources');
const manifest = JSON.parse(readFileSync(path.join(resources, MANIFEST_PATH), 'utf8')) as Manifest;

function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    if (statSync(path.join(dir, r)).isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

describe('committed corpora and tokenizer', () => {
  it('match the manifest file by file, with no file missing or unlisted', () => {
    const listed = Object.keys(manifest.files).sort();
    const present = [...listFiles(resources, 'corpora'), ...listFiles(resources, 'tokenizer')].filter((f) => f !== MANIFEST_PATH).sort();
    expect(present).toEqual(listed);
    for (const rel of listed) {
      const content = readFileSync(path.join(resources, rel));
      expect(sha256(content), rel).toBe(manifest.files[rel]?.sha256);
    }
  });
});

describe('npm run corpora reproduces them', { timeout: 300_000 }, () => {
  const built = new Map<string, BuiltDomain>();
  let tokenizer: TokenizerBuild | undefined;

  for (const domain of allDomains()) {
    it(`regenerates domain ${domain.name} byte for byte`, () => {
      const b = buildDomain(domain, repoRoot);
      built.set(domain.name, b);
      const files = domainFiles(b);
      const expected = Object.keys(manifest.files).filter((f) => f.startsWith(`corpora/${domain.name}/`)).sort();
      expect([...files.keys()].map((f) => `corpora/${f}`).sort()).toEqual(expected);
      for (const [rel, content] of files) expect(sha256(content), rel).toBe(manifest.files[`corpora/${rel}`]?.sha256);
    });
  }

  it('retrains the tokenizer from the committed splits, identically', () => {
    // The committed splits are the input (their hashes are checked above), so this holds even
    // where a source package is missing and its domain test failed.
    const read = (d: string, s: string): string[] =>
      readFileSync(path.join(resources, 'corpora', d, `${s}.jsonl`), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { text: string }).text);
    tokenizer = buildTokenizer(allDomains().map((d) => ({ name: d.name, train: read(d.name, 'train'), eval: read(d.name, 'eval') })));
    for (const [name, content] of tokenizer.files) expect(sha256(content), name).toBe(manifest.files[`tokenizer/${name}`]?.sha256);
  });

  it('reassembles the README and the manifest identically', () => {
    const missing = allDomains().filter((d) => !built.has(d.name)).map((d) => d.name);
    expect(missing, 'domains that failed to build above').toEqual([]);
    expect(tokenizer, 'the tokenizer test above must pass first').toBeDefined();
    if (!tokenizer) return;
    const domains = allDomains().map((d) => built.get(d.name) as BuiltDomain);
    const out = assemble(domains, tokenizer);
    for (const [rel, content] of out.files) {
      const committed = path.join(resources, rel);
      expect(existsSync(committed), rel).toBe(true);
      expect(sha256(content), rel).toBe(sha256(readFileSync(committed)));
    }
  });
});
