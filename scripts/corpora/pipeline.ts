// The corpus build: every domain's candidate documents, split, serialized as JSONL with their
// notices, plus the manifest (hash of every file) and a README generated from the same figures,
// so the documentation can never disagree with the data.
import type { Domain, Notice } from './domain';
import { apiDocs } from './domains/api-docs';
import { arithmetic } from './domains/arithmetic';
import { code } from './domains/code';
import { dictionary } from './domains/dictionary';
import { email } from './domains/email';
import { licenses } from './domains/licenses';
import { manpages } from './domains/manpages';
import { assignSplits, SPLITS, type Doc, type SplitName, type SplitResult } from './split';
import { utf8Bytes } from './text';

export function allDomains(): Domain[] {
  return [licenses, dictionary, email, code, apiDocs, manpages, arithmetic];
}

export interface BuiltDomain {
  domain: Domain;
  result: SplitResult;
  notices: Notice[];
  skipped: Record<string, number>;
}

export function buildDomain(domain: Domain, repoRoot: string): BuiltDomain {
  const built = domain.build(repoRoot);
  const result = assignSplits(domain.name, built.units, domain.targets);
  const used = new Set<string>();
  for (const s of SPLITS) for (const d of result.splits[s]) used.add(d.id);
  const notices = [...built.notices, ...(built.noticesFor ? built.noticesFor(used) : [])];
  return { domain, result, notices, skipped: built.skipped };
}

/** One JSON object per line, keys in a fixed order, "\n" after every line. */
export function toJsonl(docs: readonly Doc[]): string {
  return docs.map((d) => JSON.stringify({ id: d.id, text: d.text }) + '\n').join('');
}

export interface FileEntry {
  sha256: string;
  bytes: number;
}

export interface SplitStats {
  documents: number;
  /** UTF-8 bytes of the documents' text, the figure the split targets are about. */
  textBytes: number;
}

export function splitStats(docs: readonly Doc[]): SplitStats {
  return { documents: docs.length, textBytes: docs.reduce((n, d) => n + utf8Bytes(d.text), 0) };
}

/** The files of one domain, relative to the corpora folder. */
export function domainFiles(b: BuiltDomain): Map<string, string> {
  const files = new Map<string, string>();
  for (const s of SPLITS) files.set(`${b.domain.name}/${s}.jsonl`, toJsonl(b.result.splits[s]));
  for (const n of b.notices) files.set(`${b.domain.name}/${n.name}`, n.text.endsWith('\n') ? n.text : n.text + '\n');
  return files;
}

export type DomainStats = Record<SplitName, SplitStats>;

export function domainStats(b: BuiltDomain): DomainStats {
  return { train: splitStats(b.result.splits.train), eval: splitStats(b.result.splits.eval), test: splitStats(b.result.splits.test) };
}
