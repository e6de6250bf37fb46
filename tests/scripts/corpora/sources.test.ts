// The per-domain readers on small inputs (WordNet lines, license families, JSDoc blocks, the
// arithmetic generator), and the source checks that refuse a missing or different package with
// a sentence saying how to fix it, which is what a machine without Debian's manpages sees.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/shared/errors';
import { jsdocBlocks } from '../../../scripts/corpora/domains/api-docs';
import { problem } from '../../../scripts/corpora/domains/arithmetic';
import { parseSynsetLine, synsetText } from '../../../scripts/corpora/domains/dictionary';
import { licenseFamily } from '../../../scripts/corpora/domains/licenses';
import { debianPackage, npmPackageDir } from '../../../scripts/corpora/sources';
import { Rng } from '../../../scripts/corpora/text';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('WordNet synset lines', () => {
  it('reads words (markers and underscores removed) and the gloss', () => {
    const line = '00002137 03 n 02 abstraction 0 abstract_entity 0 010 @ 00001740 n 0000 | a general concept; "an example"  ';
    const s = parseSynsetLine(line, 'data.noun:30');
    expect(s).toMatchObject({ offset: '00002137', lexFile: 3, words: ['abstraction', 'abstract entity'] });
    expect(s && synsetText(s)).toBe('abstraction, abstract entity (noun): a general concept; "an example"');
    const adj = parseSynsetLine('00001740 00 a 01 able(a) 0 000 | having the means', 'data.adj:31');
    expect(adj?.words).toEqual(['able']);
  });

  it('skips the license header and names the line of a malformed one', () => {
    expect(parseSynsetLine('  1 This software and database is being provided', 'x:1')).toBeNull();
    expect(() => parseSynsetLine('00002137 03 n 02 abstraction', 'data.noun:99')).toThrow(/data.noun:99: no gloss separator/);
    expect(() => parseSynsetLine('x 03 n 05 a 0 | gloss', 'data.noun:7')).toThrow(/data.noun:7: malformed synset header/);
  });
});

describe('license families', () => {
  it('group versions and variants of one license', () => {
    expect(['GPL-2.0-only', 'GPL-3.0-or-later', 'CC-BY-NC-SA-4.0', '0BSD', 'BSD-3-Clause', 'MIT'].map(licenseFamily)).toEqual([
      'GPL',
      'GPL',
      'CC-BY-NC-SA',
      '0BSD',
      'BSD',
      'MIT',
    ]);
  });
});

describe('JSDoc blocks', () => {
  it('strip the comment syntax, keep indentation inside, resolve {@link}', () => {
    const src = ['/** One line. */', 'x;', '/**', ' * Reads {@link fs.readFile} or {@link https://x.example the docs}.', ' *', ' * ```js', ' *   indented();', ' * ```', ' */'].join('\n');
    expect(jsdocBlocks(src)).toEqual(['One line.', 'Reads fs.readFile or the docs.\n\n```js\n  indented();\n```']);
  });
});

describe('arithmetic problems', () => {
  it('are correct, use parentheses only where needed, and repeat for a seed', () => {
    const a = new Rng('t');
    const b = new Rng('t');
    const lines = Array.from({ length: 2000 }, () => problem(a));
    expect(Array.from({ length: 2000 }, () => problem(b))).toEqual(lines);
    for (const line of lines) {
      const [lhs = '', rhs] = line.split(' = ');
      expect(/^[\d ()+\-*/]+$/.test(lhs), line).toBe(true);
      expect(/\(\d+\)/.test(lhs), `${line} has a needless parenthesis`).toBe(false);
      expect(Number.isInteger(Number(rhs)), line).toBe(true);
    }
    expect(lines.some((l) => l.includes('('))).toBe(true);
    expect(lines.some((l) => l.includes('/'))).toBe(true);
  });
});

describe('source checks', () => {
  it('accept the pinned npm version and refuse another with the fix in words', () => {
    expect(npmPackageDir(repoRoot, 'lodash', '4.18.1')).toMatch(/lodash$/);
    expect(() => npmPackageDir(repoRoot, 'lodash', '0.0.1')).toThrow(UserError);
    expect(() => npmPackageDir(repoRoot, 'lodash', '0.0.1')).toThrow(/lodash is version 4\.18\.1, but the corpora are built from 0\.0\.1; run `npm ci`/);
    expect(() => npmPackageDir(repoRoot, 'no-such-corpus-package', '1.0.0')).toThrow(/no-such-corpus-package is not installed; run `npm ci`/);
  });

  it('refuse a missing Debian package with the apt-get command', () => {
    expect(() => debianPackage('dynamics-no-such-package', '1.0')).toThrow(
      /The Debian package dynamics-no-such-package is not installed .*apt-get install -y dynamics-no-such-package/,
    );
  });

  it('find the pinned manpages package, as the corpora require', () => {
    // Fails (does not skip) where manpages is missing: install it with `apt-get install -y manpages`.
    const pkg = debianPackage('manpages', '6.03-2');
    expect(pkg.files.filter((f) => f.startsWith('/usr/share/man/man7/')).length).toBeGreaterThan(100);
    expect(() => debianPackage('manpages', '0.1')).toThrow(/manpages is version 6\.03-2, but the corpora are built from 0\.1/);
  });
});
