// Domain "licenses": the full texts of the SPDX license list, one license per document. Versions
// and variants of one license family (GPL-2.0-only, GPL-3.0-or-later…) are near-duplicates, so a
// family is one unit and never straddles splits.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bump, DEFAULT_TARGETS, type Domain, type DomainBuild } from '../domain';
import type { Unit } from '../split';
import { npmPackageDir } from '../sources';
import { compareStrings, normalizeWhitespace } from '../text';

export const SPDX_PACKAGE = 'spdx-license-list';
export const SPDX_VERSION = '6.12.0';
const PACKAGE = SPDX_PACKAGE;
const VERSION = SPDX_VERSION;

/** "GPL-2.0-or-later" → "GPL", "CC-BY-NC-SA-4.0" → "CC-BY-NC-SA", "0BSD" → "0BSD". */
export function licenseFamily(id: string): string {
  const parts = id.split('-');
  const kept: string[] = [];
  for (const p of parts) {
    if (/^[0-9]/.test(p) && kept.length > 0) break;
    kept.push(p);
  }
  return kept.join('-');
}

export const licenses: Domain = {
  name: 'licenses',
  description: 'Software and content license texts from the SPDX license list',
  document: 'one license text',
  source: {
    kind: 'npm',
    package: PACKAGE,
    version: VERSION,
    license: 'CC0-1.0',
    terms:
      'The package (a compilation of the SPDX license list data, itself CC0) is CC0-1.0; the license texts are published ' +
      'to be copied verbatim, and are shipped here unchanged except for whitespace normalization.',
  },
  targets: DEFAULT_TARGETS,
  build(repoRoot: string): DomainBuild {
    const dir = npmPackageDir(repoRoot, PACKAGE, VERSION);
    const files = readdirSync(path.join(dir, 'licenses'))
      .filter((f) => f.endsWith('.json'))
      .sort(compareStrings);
    const families = new Map<string, Unit>();
    const skipped: Record<string, number> = {};
    for (const file of files) {
      const id = file.slice(0, -'.json'.length);
      const entry = JSON.parse(readFileSync(path.join(dir, 'licenses', file), 'utf8')) as { licenseText?: unknown };
      if (typeof entry.licenseText !== 'string') {
        bump(skipped, 'no license text');
        continue;
      }
      const key = licenseFamily(id);
      let unit = families.get(key);
      if (!unit) {
        unit = { key, docs: [] };
        families.set(key, unit);
      }
      unit.docs.push({ id: `spdx/${id}`, text: normalizeWhitespace(entry.licenseText) });
    }
    return {
      units: [...families.values()],
      notices: [{ name: 'LICENSE-spdx-license-list.txt', text: readFileSync(path.join(dir, 'license'), 'utf8') }],
      skipped,
    };
  },
};
