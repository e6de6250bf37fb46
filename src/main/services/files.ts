// files.* and dialog.*: choosing a path on the machine that runs the core. The desktop app passes
// a NativeDialog (Electron's, in src/main/app); serve passes none, and dialog calls are refused in
// words that point to the alternatives (a typed path, files.places/list, an upload).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidInputError, UserError } from '../../shared/errors';
import type { FileEntry, FolderListing, Place } from '../../shared/services/files';
import type { RecentPaths } from './datasets';

export const MAX_LISTED_ENTRIES = 1000;
const MAX_RECENT = 10;

/** The last paths imported from, newest first, kept in a small JSON file of the data directory. */
export class RecentPathsFile implements RecentPaths {
  constructor(private readonly file: string) {}

  read(): string[] {
    try {
      const v = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, MAX_RECENT) : [];
    } catch {
      return [];
    }
  }

  add(file: string): void {
    const next = [file, ...this.read().filter((p) => p !== file)].slice(0, MAX_RECENT);
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(next));
    renameSync(tmp, this.file);
  }
}

export interface FilesServiceDeps {
  corporaDir: string;
  dataDir: string;
  recent: RecentPathsFile;
  home?: string;
}

export class FilesService {
  constructor(private readonly deps: FilesServiceDeps) {}

  places(): Place[] {
    const out: Place[] = [];
    for (const p of this.deps.recent.read()) {
      if (existsSync(p)) out.push({ label: path.basename(p), path: p, kind: 'file', description: 'recently imported' });
    }
    const home = this.deps.home ?? os.homedir();
    out.push({ label: 'Home', path: home, kind: 'folder', description: 'home folder' });
    if (existsSync(this.deps.corporaDir)) {
      out.push({ label: 'Bundled corpora', path: this.deps.corporaDir, kind: 'folder', description: 'the corpora shipped with the app (train/eval/test JSONL)' });
    }
    out.push({ label: 'Data directory', path: this.deps.dataDir, kind: 'folder', description: 'where DynaMiCS keeps its database, datasets and runs' });
    return out;
  }

  list(dir: string): FolderListing {
    const abs = path.resolve(dir);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new UserError(`${abs} does not exist`);
    }
    if (!st.isDirectory()) throw new InvalidInputError(`${abs} is a file, not a folder`);
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      throw new UserError(`cannot read the folder ${abs} (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
    }
    const entries: FileEntry[] = [];
    for (const name of names.filter((n) => !n.startsWith('.')).sort((a, b) => a.localeCompare(b))) {
      const p = path.join(abs, name);
      try {
        const s = statSync(p);
        if (s.isDirectory()) entries.push({ name, path: p, kind: 'folder', bytes: null });
        else if (s.isFile()) entries.push({ name, path: p, kind: 'file', bytes: s.size });
      } catch {
        // A dangling link or a file removed meanwhile: not listed.
      }
    }
    entries.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'folder' ? -1 : 1));
    const parent = path.dirname(abs);
    return { path: abs, parent: parent === abs ? null : parent, entries: entries.slice(0, MAX_LISTED_ENTRIES), truncated: entries.length > MAX_LISTED_ENTRIES };
  }
}

export interface FileFilter {
  name: string;
  extensions: string[];
}

/** A native open dialog (the desktop app's). */
export interface NativeDialog {
  openFile(options: { title?: string | undefined; filters?: FileFilter[] | undefined }): Promise<string | null>;
  openFolder(options: { title?: string | undefined }): Promise<string | null>;
}

export class DialogService {
  constructor(private readonly native: NativeDialog | null) {}

  available(): { native: boolean } {
    return { native: this.native !== null };
  }

  private need(): NativeDialog {
    if (!this.native) {
      throw new UserError('there is no native file dialog in the browser: type a path on the machine running DynaMiCS, pick one from the list, or upload the file');
    }
    return this.native;
  }

  async openFile(options: { title?: string | undefined; filters?: FileFilter[] | undefined }): Promise<{ path: string | null }> {
    return { path: await this.need().openFile(options) };
  }

  async openFolder(options: { title?: string | undefined }): Promise<{ path: string | null }> {
    return { path: await this.need().openFolder(options) };
  }
}
