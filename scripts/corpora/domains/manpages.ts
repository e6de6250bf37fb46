// Domain "manpages": the Linux man-pages project's pages as packaged by Debian (`manpages`),
// converted to plain text by our own roff reader (roff.ts) so the result does not depend on the
// installed groff. A page's sections are packed into ~4 KB chunks, one per document, each headed
// by the page name; a page is one unit (its chunks share a split) unless it is very long. Each
// used page's copyright and license header is shipped verbatim in a notices file, as the pages'
// licenses require.
import { lstatSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { bump, DEFAULT_TARGETS, type Domain, type DomainBuild, type Notice } from '../domain';
import { roffToText } from '../roff';
import type { Unit } from '../split';
import { debianPackage } from '../sources';
import { compareStrings, normalizeWhitespace, packParagraphs } from '../text';

const PACKAGE = 'manpages';
const VERSION = '6.03-2';
const CHUNK_CHARS = 4000;
const LONG_PAGE_CHARS = 40_000;

/** The leading comment block of a page: its copyright and license notice. */
export function headerComment(source: string): string {
  const out: string[] = [];
  for (const line of source.split('\n')) {
    const m = /^[.'][ \t]*\\"(.*)$/.exec(line);
    if (!m) {
      if (line.trim() === '' || /^[.'][ \t]*$/.test(line)) continue;
      break;
    }
    out.push((m[1] ?? '').replace(/^ /, ''));
  }
  return out.join('\n').trim();
}

/** The license a page's header names: its SPDX identifier, or the man-pages %%%LICENSE_START tag. */
export function pageLicense(header: string): string {
  const spdx = /SPDX-License-Identifier:\s*(.+)/.exec(header);
  if (spdx?.[1]) return spdx[1].trim();
  const tag = /%%%LICENSE_START\(([^)]+)\)/.exec(header);
  if (tag?.[1]) return `man-pages ${tag[1]}`;
  return 'see the Debian copyright file';
}

export function pageDocuments(source: string): { name: string; chunks: string[] } | { skip: string } {
  const page = roffToText(source);
  if (page.includes) return { skip: 'only a .so link to another page' };
  if (page.title === '') return { skip: 'no .TH title' };
  const name = `${page.title}(${page.section})`;
  const paragraphs: string[] = [];
  for (const s of page.sections) {
    if (s.heading !== '') paragraphs.push(s.heading);
    paragraphs.push(...s.blocks);
  }
  const chunks = packParagraphs(paragraphs.map(normalizeWhitespace).filter((p) => p !== ''), CHUNK_CHARS).map((c) =>
    normalizeWhitespace(`${name}\n\n${c}`),
  );
  return { name, chunks };
}

export const manpages: Domain = {
  name: 'manpages',
  description: 'Linux manual pages (system interfaces, file formats, conventions) as plain text',
  document: 'a chunk of up to about 4 KB of one page, headed by the page name',
  source: {
    kind: 'debian',
    package: PACKAGE,
    version: VERSION,
    license: 'GPL-2.0-or-later, Linux-man-pages-copyleft, BSD and others per page (all DFSG-free)',
    terms:
      'Each page allows redistribution of modified copies provided its copyright and permission notice goes with it: ' +
      'every used page\'s header is shipped verbatim in NOTICES-manpages.txt, with Debian\'s copyright file. Sources: ' +
      'the Debian package of this version (apt-get source manpages) and the converter in scripts/corpora.',
  },
  targets: DEFAULT_TARGETS,
  build(): DomainBuild {
    const pkg = debianPackage(PACKAGE, VERSION);
    const files = pkg.files.filter((f) => /^\/usr\/share\/man\/man[1-9]\/[^/]+\.gz$/.test(f)).sort(compareStrings);
    const units: Unit[] = [];
    const skipped: Record<string, number> = {};
    const headers = new Map<string, { file: string; license: string; header: string }>();
    for (const file of files) {
      if (lstatSync(file).isSymbolicLink()) {
        bump(skipped, 'symbolic link to another page');
        continue;
      }
      const source = gunzipSync(readFileSync(file)).toString('utf8');
      const docs = pageDocuments(source);
      if ('skip' in docs) {
        bump(skipped, docs.skip);
        continue;
      }
      const key = path.basename(file, '.gz');
      const header = headerComment(source);
      const chunkDocs = docs.chunks.map((text, i) => ({ id: `man/${key}#${i}`, text }));
      // A page is one unit so its chunks share a split, except the few very long pages (proc(5),
      // bpf-helpers(7)…): as one unit they would swamp an eval or test split, and their chunks
      // cover unrelated interfaces, so each chunk is a unit of its own.
      const pageChars = docs.chunks.reduce((n, c) => n + c.length, 0);
      if (pageChars <= LONG_PAGE_CHARS) units.push({ key, docs: chunkDocs });
      else for (const d of chunkDocs) units.push({ key: d.id, docs: [d] });
      headers.set(key, { file: `man${path.basename(path.dirname(file)).slice(3)}/${key}`, license: pageLicense(header), header });
    }
    const copyright = readFileSync('/usr/share/doc/manpages/copyright', 'utf8');
    return {
      units,
      notices: [{ name: 'COPYRIGHT-manpages-debian.txt', text: copyright }],
      noticesFor(usedIds: ReadonlySet<string>): Notice[] {
        const usedPages = new Set([...usedIds].map((id) => id.slice('man/'.length, id.lastIndexOf('#'))));
        const used = [...headers.keys()].filter((k) => usedPages.has(k));
        const parts = used.map((k) => {
          const h = headers.get(k);
          return h ? `==> ${h.file} (license: ${h.license})\n\n${h.header}\n` : '';
        });
        const intro =
          `Copyright and license notices of the pages in this corpus, verbatim from their roff sources (Debian package ` +
          `${PACKAGE} ${VERSION}). The full license texts are in COPYRIGHT-manpages-debian.txt.\n\n`;
        return [{ name: 'NOTICES-manpages.txt', text: intro + parts.join('\n') }];
      },
      skipped,
    };
  },
};
