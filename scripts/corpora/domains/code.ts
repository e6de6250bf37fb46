// Domain "code": lodash's modular CommonJS sources (one function or internal helper per file, with
// its JSDoc), one file per document. The monolithic builds (lodash.js, core.js, *.min.js) repeat
// the same code and are left out; one-line alias modules fall under the minimum length.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_TARGETS, type Domain, type DomainBuild } from '../domain';
import type { Unit } from '../split';
import { npmPackageDir } from '../sources';
import { compareStrings, normalizeWhitespace } from '../text';

const PACKAGE = 'lodash';
const VERSION = '4.18.1';
const MONOLITHS = new Set(['lodash.js', 'lodash.min.js', 'core.js', 'core.min.js']);

export const code: Domain = {
  name: 'code',
  description: 'JavaScript source code: the lodash utility library',
  document: 'one source file (a function or internal helper with its JSDoc)',
  source: {
    kind: 'npm',
    package: PACKAGE,
    version: VERSION,
    license: 'MIT',
    terms: 'MIT: redistribution allowed with the copyright and permission notice, which is shipped beside the data.',
  },
  targets: DEFAULT_TARGETS,
  build(repoRoot: string): DomainBuild {
    const dir = npmPackageDir(repoRoot, PACKAGE, VERSION);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.js') && !MONOLITHS.has(f))
      .sort(compareStrings);
    const units: Unit[] = files.map((f) => ({
      key: f,
      docs: [{ id: `lodash/${f}`, text: normalizeWhitespace(readFileSync(path.join(dir, f), 'utf8')) }],
    }));
    return { units, notices: [{ name: 'LICENSE-lodash.txt', text: readFileSync(path.join(dir, 'LICENSE'), 'utf8') }], skipped: {} };
  },
};
