// Domain "api-docs": the JSDoc prose of Node.js's type definitions (@types/node, installed under
// the alias corpus-types-node so the project's own @types/node can move without changing the
// corpus). Comment blocks are taken verbatim minus the comment syntax, deduplicated (overloads and
// the ts5.x copies repeat them), and consecutive blocks of one file packed into ~2 KB documents.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bump, DEFAULT_TARGETS, type Domain, type DomainBuild } from '../domain';
import type { Unit } from '../split';
import { npmPackageDir } from '../sources';
import { compareStrings, normalizeWhitespace, packParagraphs } from '../text';

const PACKAGE = 'corpus-types-node';
const UPSTREAM = '@types/node';
const VERSION = '20.19.43';
const DOC_CHARS = 2000;
const MIN_BLOCK_CHARS = 30;

function listDts(dir: string, rel = ''): string[] {
  const out: string[] = [];
  const entries = readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => compareStrings(a.name, b.name));
  for (const e of entries) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...listDts(dir, r));
    else if (e.name.endsWith('.d.ts')) out.push(r);
  }
  return out;
}

/** The text of every `/** … *\/` block in a file, without the comment markers and the leading ` * `. */
export function jsdocBlocks(source: string): string[] {
  const blocks: string[] = [];
  for (const m of source.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const body = (m[1] ?? '')
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, '').replace(/^\s+$/, ''))
      .join('\n')
      // {@link fs.readFile} → fs.readFile; {@link url text} → text.
      .replace(/\{@link(?:code|plain)?\s+([^\s}|]+)(?:\s*\|?\s*([^}]*))?\}/g, (_m, target: string, label?: string) =>
        label && label.trim() !== '' ? label.trim() : target,
      );
    // A one-line comment (/** text */) leaves a leading space; indentation inside a block is kept.
    blocks.push(normalizeWhitespace(body).trimStart());
  }
  return blocks;
}

export const apiDocs: Domain = {
  name: 'api-docs',
  description: 'API documentation prose: the JSDoc comments of the Node.js type definitions',
  document: 'consecutive JSDoc blocks of one declaration file, packed to about 2 KB',
  source: {
    kind: 'npm',
    package: PACKAGE,
    upstream: UPSTREAM,
    version: VERSION,
    license: 'MIT',
    terms: 'MIT: redistribution allowed with the copyright and permission notice, which is shipped beside the data.',
  },
  targets: DEFAULT_TARGETS,
  build(repoRoot: string): DomainBuild {
    const dir = npmPackageDir(repoRoot, PACKAGE, VERSION);
    const seen = new Set<string>();
    const units: Unit[] = [];
    const skipped: Record<string, number> = {};
    for (const rel of listDts(dir)) {
      const blocks: string[] = [];
      for (const b of jsdocBlocks(readFileSync(path.join(dir, rel), 'utf8'))) {
        if (b.length < MIN_BLOCK_CHARS) {
          bump(skipped, 'block under 30 characters');
          continue;
        }
        if (seen.has(b)) {
          bump(skipped, 'repeated block');
          continue;
        }
        seen.add(b);
        blocks.push(b);
      }
      packParagraphs(blocks, DOC_CHARS).forEach((text, i) => {
        units.push({ key: `${rel}#${i}`, docs: [{ id: `node/${rel}#${i}`, text }] });
      });
    }
    return { units, notices: [{ name: 'LICENSE-types-node.txt', text: readFileSync(path.join(dir, 'LICENSE'), 'utf8') }], skipped };
  },
};
