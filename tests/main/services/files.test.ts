// files.*, dialog.* and the upload store: browsing the core's disk, the refusal of native dialogs
// in a browser (and their use when the app provides one), and upload caps.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DialogService, FilesService, RecentPathsFile } from '../../../src/main/services/files';
import { Uploads } from '../../../src/main/services/uploads';
import type { FolderListing, Place } from '../../../src/shared/services/files';
import { tempDir } from '../../helpers/temp';
import { testCore } from './helpers';

describe('files and dialog services', () => {
  const core = testCore();

  it('offers places (recent imports first) and lists folders, folders first, hidden files left out', async () => {
    const dir = path.join(core.root, 'browse');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    writeFileSync(path.join(dir, 'a.jsonl'), '{"text": "x"}\n');
    writeFileSync(path.join(dir, '.hidden'), '');
    const listing = await core.call<FolderListing>('files.list', { path: dir });
    expect(listing).toMatchObject({ path: dir, parent: core.root, truncated: false });
    expect(listing.entries).toEqual([
      { name: 'sub', path: path.join(dir, 'sub'), kind: 'folder', bytes: null },
      { name: 'a.jsonl', path: path.join(dir, 'a.jsonl'), kind: 'file', bytes: 14 },
    ]);
    expect((await core.fail('files.list', { path: path.join(dir, 'a.jsonl') })).message).toMatch(/is a file, not a folder/);
    expect((await core.fail('files.list', { path: path.join(dir, 'nope') })).message).toMatch(/does not exist/);
    await core.call('datasets.import', { path: path.join(dir, 'a.jsonl'), name: 'a' });
    const places = await core.call<Place[]>('files.places');
    expect(places[0]).toMatchObject({ path: path.join(dir, 'a.jsonl'), description: 'recently imported' });
    expect(places.map((p) => p.label)).toContain('Bundled corpora');
  });

  it('refuses native dialogs in a browser, and uses the one the app provides', async () => {
    expect(await core.call('dialog.available')).toEqual({ native: false });
    expect((await core.fail('dialog.openFolder')).message).toMatch(/no native file dialog in the browser/);
    const asked: unknown[] = [];
    const dialog = new DialogService({
      openFile: async (o) => (asked.push(o), '/picked/file.jsonl'),
      openFolder: async () => null,
    });
    expect(dialog.available()).toEqual({ native: true });
    expect(await dialog.openFile({ title: 'Dataset', filters: [{ name: 'JSONL', extensions: ['jsonl'] }] })).toEqual({ path: '/picked/file.jsonl' });
    expect(asked).toEqual([{ title: 'Dataset', filters: [{ name: 'JSONL', extensions: ['jsonl'] }] }]);
    expect(await dialog.openFolder({})).toEqual({ path: null });
  });

  it('keeps the ten most recent import paths without repeats', () => {
    const dir = tempDir();
    const recent = new RecentPathsFile(path.join(dir, 'recent.json'));
    for (let i = 0; i < 12; i++) recent.add(`/f${i}`);
    recent.add('/f5');
    expect(recent.read()).toEqual(['/f5', '/f11', '/f10', '/f9', '/f8', '/f7', '/f6', '/f4', '/f3', '/f2']);
    writeFileSync(path.join(dir, 'recent.json'), 'garbage');
    expect(recent.read()).toEqual([]);
    expect(new FilesService({ corporaDir: path.join(dir, 'none'), dataDir: dir, recent, home: dir }).places().map((p) => p.label)).toEqual(['Home', 'Data directory']);
  });
});

describe('uploads', () => {
  it('caps size, chunk size and open uploads, writes in order, and sweeps old leftovers', async () => {
    const root = tempDir();
    let now = Date.now();
    const limits = { chunkBytes: 4, maxBytes: 10, open: 2, maxAgeMs: 1000 };
    const uploads = new Uploads(root, limits, () => now);
    expect(() => uploads.begin('big', 11)).toThrow(/at most 10 bytes/);
    expect(() => uploads.begin('../..', 3)).toThrow(/is not a file name/);
    const a = uploads.begin('dir/evil/../name.txt', 6);
    uploads.begin('b', 1);
    expect(() => uploads.begin('c', 1)).toThrow(/2 uploads are already open/);
    await expect(uploads.chunk(a.uploadId, 0, Buffer.from('12345').toString('base64'))).rejects.toThrow(/at most 4 bytes/);
    await expect(uploads.chunk(a.uploadId, 0, '***')).rejects.toThrow(/base64/);
    await uploads.chunk(a.uploadId, 0, Buffer.from('abcd').toString('base64'));
    await expect(uploads.chunk(a.uploadId, 4, Buffer.from('xyz').toString('base64'))).rejects.toThrow(/more than the 6 bytes/);
    expect(await uploads.chunk(a.uploadId, 4, Buffer.from('ef').toString('base64'))).toEqual({ received: 6, complete: true });
    const f = uploads.file(a.uploadId);
    expect(f.fileName).toBe('name.txt');
    expect(path.dirname(path.dirname(f.file))).toBe(root);
    expect(readFileSync(f.file, 'utf8')).toBe('abcdef');
    uploads.discard(a.uploadId);
    expect(existsSync(f.file)).toBe(false);
    now += 10_000;
    new Uploads(root, limits, () => now);
    expect(readdirSync(root)).toEqual([]);
  });
});
