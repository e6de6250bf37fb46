// files.* and dialog.*: choosing a file or folder on the machine that runs the core. The desktop
// app opens a native dialog (`dialog.available()` says whether there is one); a browser served by
// `dynamics serve` has none, so the UI offers `files.places` (bundled corpora, the data directory,
// home, recent imports) and `files.list` to browse, beside a typed path and an upload.
import { z } from 'zod';
import { method } from '../rpc';

export interface Place {
  label: string;
  path: string;
  kind: 'file' | 'folder';
  /** e.g. "bundled corpus", "recently imported", "home folder". */
  description: string;
}

export interface FileEntry {
  name: string;
  path: string;
  kind: 'file' | 'folder';
  /** Files only. */
  bytes: number | null;
}

export interface FolderListing {
  path: string;
  parent: string | null;
  entries: FileEntry[];
  /** More entries exist than were returned. */
  truncated: boolean;
}

export const filesService = {
  places: method(z.undefined()).returns<Place[]>(),
  /** A folder's entries (folders first, hidden files left out), at most 1,000. */
  list: method(z.strictObject({ path: z.string().min(1).max(4096) })).returns<FolderListing>(),
};

const fileFilter = z.strictObject({ name: z.string().min(1).max(100), extensions: z.array(z.string().min(1).max(20)).min(1).max(20) });

export const dialogService = {
  /** Whether a native dialog exists here (the desktop app) or not (a browser). */
  available: method(z.undefined()).returns<{ native: boolean }>(),
  /** The chosen file, or null when the user cancelled. Refused in a browser, in words. */
  openFile: method(z.strictObject({ title: z.string().max(200).optional(), filters: z.array(fileFilter).max(10).optional() }).prefault({})).returns<{ path: string | null }>(),
  openFolder: method(z.strictObject({ title: z.string().max(200).optional() }).prefault({})).returns<{ path: string | null }>(),
};
