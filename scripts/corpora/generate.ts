// Everything `npm run corpora` produces, computed in memory: the corpora files, the tokenizer
// files, the READMEs and the manifest, keyed by path relative to resources/. The CLI writes them;
// the reproducibility test compares them with what is committed.
import type { SourceInfo } from './domain';
import { allDomains, buildDomain, domainFiles, domainStats, type BuiltDomain, type DomainStats, type FileEntry } from './pipeline';
import { corporaReadme } from './readme';
import { SPECIAL_TOKENS, specialTokenIds } from './hf-tokenizer';
import { sha256, utf8Bytes } from './text';
import { buildTokenizer, type DomainTexts, type StudyRow, type TokenizerBuild } from './tokenizer';

export const MANIFEST_PATH = 'corpora/MANIFEST.json';

export interface Manifest {
  generator: string;
  sources: Record<string, SourceInfo>;
  domains: Record<string, DomainStats & { candidates: number; dropped: BuiltDomain['result']['dropped'] }>;
  tokenizer: {
    vocabSize: number;
    merges: number;
    specialTokens: Record<string, number>;
    bytesPerToken: Record<string, number>;
    digitsMergedBytesPerToken: Record<string, number>;
    study: StudyRow[];
  };
  /** Path relative to resources/ → hash and size, for every generated file but this one. */
  files: Record<string, FileEntry>;
}

export interface GenerateOutput {
  /** Path relative to resources/ → content; includes the manifest. */
  files: Map<string, string>;
  manifest: Manifest;
  built: BuiltDomain[];
}

export function generateAll(repoRoot: string, log: (line: string) => void = () => {}): GenerateOutput {
  const built: BuiltDomain[] = [];
  for (const domain of allDomains()) {
    const t0 = Date.now();
    const b = buildDomain(domain, repoRoot);
    built.push(b);
    const s = domainStats(b);
    log(
      `${domain.name}: train ${s.train.textBytes} B (${s.train.documents} docs), eval ${s.eval.textBytes} B (${s.eval.documents}), ` +
        `test ${s.test.textBytes} B (${s.test.documents}) in ${Date.now() - t0} ms`,
    );
  }
  const t0 = Date.now();
  const tok = buildTokenizer(tokenizerInputs(built));
  log(`tokenizer: ${tok.model.tokens.length + SPECIAL_TOKENS.length} tokens in ${Date.now() - t0} ms; bytes/token ${JSON.stringify(tok.bytesPerToken)}`);
  return assemble(built, tok);
}

/** The tokenizer trains on every domain's train split and is measured on its eval split. */
export function tokenizerInputs(built: readonly BuiltDomain[]): DomainTexts[] {
  return built.map((b) => ({ name: b.domain.name, train: b.result.splits.train.map((d) => d.text), eval: b.result.splits.eval.map((d) => d.text) }));
}

/** All output files, the READMEs and the manifest included, from built domains and tokenizer. */
export function assemble(built: readonly BuiltDomain[], tok: TokenizerBuild): GenerateOutput {
  const files = new Map<string, string>();
  const stats = new Map<string, DomainStats>();
  for (const b of built) {
    stats.set(b.domain.name, domainStats(b));
    for (const [rel, content] of domainFiles(b)) files.set(`corpora/${rel}`, content);
  }
  files.set('corpora/README.md', corporaReadme(built, stats));
  for (const [name, content] of tok.files) files.set(`tokenizer/${name}`, content);

  const entries: Record<string, FileEntry> = {};
  for (const [rel, content] of [...files].sort((a, b) => (a[0] < b[0] ? -1 : 1))) entries[rel] = { sha256: sha256(content), bytes: utf8Bytes(content) };
  const manifest: Manifest = {
    generator: 'npm run corpora (scripts/corpora/build.ts)',
    sources: Object.fromEntries(built.map((b) => [b.domain.name, b.domain.source])),
    domains: Object.fromEntries(built.map((b) => [b.domain.name, { ...domainStats(b), candidates: b.result.candidates, dropped: b.result.dropped }])),
    tokenizer: {
      vocabSize: tok.model.tokens.length + SPECIAL_TOKENS.length,
      merges: tok.model.merges.length,
      specialTokens: specialTokenIds(tok.model),
      bytesPerToken: tok.bytesPerToken,
      digitsMergedBytesPerToken: tok.digitsMergedBytesPerToken,
      study: tok.study,
    },
    files: entries,
  };
  files.set(MANIFEST_PATH, JSON.stringify(manifest, null, 2) + '\n');
  return { files, manifest, built: [...built] };
}
