// Locating the pinned source packages the corpora are built from, and refusing to build from any
// other version: the committed corpora and their manifest describe exactly these versions, so a
// different version must stop the build with a sentence saying what to do, not drift silently.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UserError } from '../../src/shared/errors';

/** The installed folder of npm package `name` (as resolved from the repository root), checked against `version`. */
export function npmPackageDir(repoRoot: string, name: string, version: string): string {
  const req = createRequire(path.join(repoRoot, 'package.json'));
  let manifest: string;
  try {
    manifest = req.resolve(`${name}/package.json`);
  } catch {
    throw new UserError(`The corpus source package ${name} is not installed; run \`npm ci\` (it is a pinned devDependency).`);
  }
  const installed = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
  if (installed !== version) {
    throw new UserError(
      `The corpus source package ${name} is version ${String(installed)}, but the corpora are built from ${version}; ` +
        'run `npm ci`, or update the version in scripts/corpora and regenerate the corpora on purpose.',
    );
  }
  return path.dirname(manifest);
}

export interface DebianPackage {
  version: string;
  /** Every path the package installed, as dpkg lists it. */
  files: string[];
}

/** A Debian package's installed files, checked against `version`; missing dpkg or package is a clear error. */
export function debianPackage(name: string, version: string): DebianPackage {
  let installed: string;
  try {
    installed = execFileSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    throw new UserError(`The Debian package ${name} is not installed (the man-page corpus is built from it); install it with \`apt-get install -y ${name}\`.`);
  }
  const [status = '', got = ''] = installed.split('\t');
  if (!status.includes('installed') || status.includes('not-installed')) {
    throw new UserError(`The Debian package ${name} is not installed (dpkg status "${status}"); install it with \`apt-get install -y ${name}\`.`);
  }
  if (got !== version) {
    throw new UserError(
      `The Debian package ${name} is version ${got}, but the corpora are built from ${version}; ` +
        'install that version, or update the version in scripts/corpora and regenerate the corpora on purpose.',
    );
  }
  const files = execFileSync('dpkg-query', ['-L', name], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .split('\n')
    .filter((f) => f.length > 0);
  for (const f of files) {
    if (f.startsWith('/usr/share/man/') && f.endsWith('.gz') && !existsSync(f)) {
      throw new UserError(`The Debian package ${name} is installed but its file ${f} is missing (is the image excluding /usr/share/man?); reinstall it with \`apt-get install --reinstall -y ${name}\`.`);
    }
  }
  return { version: got, files };
}
