// `npm run corpora`: regenerates resources/corpora (all domains, README, MANIFEST.json) and
// resources/tokenizer from the pinned sources, deterministically.
//   --out DIR   write under DIR instead of resources/ (DIR/corpora, DIR/tokenizer)
//   --check     write nothing; compare with what is there and exit 1 on any difference
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isUserError, messageOf } from '../../src/shared/errors';
import { generateAll } from './generate';
import { allDomains } from './pipeline';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseArgs(argv: string[]): { out: string; check: boolean } {
  let out = path.join(repoRoot, 'resources');
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') check = true;
    else if (a === '--out') {
      const v = argv[++i];
      if (!v) throw new Error('--out needs a folder');
      out = path.resolve(v);
    } else throw new Error(`unknown argument ${a ?? ''} (expected --out DIR or --check)`);
  }
  return { out, check };
}

function main(): number {
  const { out, check } = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const { files } = generateAll(repoRoot, (line) => console.log(line));
  if (check) {
    const differing = [...files].filter(([rel, content]) => {
      const file = path.join(out, rel);
      return !existsSync(file) || readFileSync(file, 'utf8') !== content;
    });
    for (const [rel] of differing) console.error(`differs: ${rel}`);
    console.log(differing.length === 0 ? `all ${files.size} files match` : `${differing.length} of ${files.size} files differ`);
    return differing.length === 0 ? 0 : 1;
  }
  // Domain folders are removed first so a document, notice or domain that disappears leaves nothing behind.
  for (const d of allDomains()) rmSync(path.join(out, 'corpora', d.name), { recursive: true, force: true });
  for (const [rel, content] of files) {
    const file = path.join(out, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  console.log(`wrote ${files.size} files under ${path.relative(process.cwd(), out) || '.'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  console.error(isUserError(err) ? messageOf(err) : err);
  process.exitCode = 1;
}
