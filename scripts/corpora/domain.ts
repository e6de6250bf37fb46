// What every corpus domain provides to the build: where its text comes from (package, version,
// license, for the README and manifest), the license files to ship beside it, and its candidate
// documents grouped into units that the splitter keeps together.
import type { SplitTargets, Unit } from './split';

export interface SourceInfo {
  kind: 'npm' | 'debian' | 'synthetic';
  /** Package name as installed (npm name or alias, Debian package), or the generator for synthetic data. */
  package: string;
  /** The upstream package when `package` is an alias. */
  upstream?: string;
  version: string;
  /** SPDX expression or a short phrase, as the source states it. */
  license: string;
  /** One sentence on why redistribution is allowed and what it requires. */
  terms: string;
}

export interface Notice {
  /** File name written in the domain's folder, e.g. "LICENSE.txt". */
  name: string;
  text: string;
}

export interface DomainBuild {
  units: Unit[];
  notices: Notice[];
  /** Notices that depend on which documents were kept (after splitting), e.g. per-page headers. */
  noticesFor?(usedIds: ReadonlySet<string>): Notice[];
  /** Anything the builder skipped or could not convert, counted by reason, for the build log. */
  skipped: Record<string, number>;
}

export interface Domain {
  name: string;
  description: string;
  /** What one document is, in words (README). */
  document: string;
  source: SourceInfo;
  targets: SplitTargets;
  build(repoRoot: string): DomainBuild;
}

/** The split targets every domain uses unless it says otherwise: ≥ 100 KB eval and test, ≤ 800 KB train. */
export const DEFAULT_TARGETS: SplitTargets = {
  evalBytes: 100_000,
  testBytes: 100_000,
  trainMaxBytes: 800_000,
  minChars: 100,
};

export function bump(counts: Record<string, number>, reason: string): void {
  counts[reason] = (counts[reason] ?? 0) + 1;
}
