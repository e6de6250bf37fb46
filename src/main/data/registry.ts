// The datasets a user imported: `import` copies the file under the data directory, checks it under
// the import policy, optionally tokenizes it, and records a manifest with its stats; `tokenized`
// opens a dataset for training under a model's tokenizer (building or reusing the token cache).
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { NotFoundError, UserError } from '../../shared/errors';
import { DATASET_NAME, type DatasetCatalog, type DatasetManifest, type TokenizedStats } from './catalog';
import { checkFile, formatProblem, type ImportPolicy } from './check';
import { TokenizedDataset } from './dataset';
import type { TextMode } from './reader';
import { inspectSource, type FileKind } from './source';
import type { TokenCache } from './token-cache';
import { tokenizeFile, type TokenizeOptions, type TokenizeResult } from './tokenize';
import type { TextTokenizer } from './tokenizer';

export interface ImportOptions {
  name: string;
  tokenizer?: TextTokenizer;
  policy?: ImportPolicy;
  kind?: FileKind;
  textMode?: TextMode;
  onProgress?: (phase: 'checking' | 'tokenizing', bytesRead: number, totalBytes: number) => void;
}

/** The stored name of a dataset's data file: keeps the extension so the copy reads like the original. */
function storedName(original: string, kind: FileKind, gzip: boolean): string {
  const lower = original.toLowerCase().replace(/\.gz$/, '');
  const ext = path.extname(lower);
  const known = kind === 'jsonl' ? ['.jsonl', '.ndjson', '.json'] : ['.txt', '.md', '.markdown', '.text'];
  return `data${known.includes(ext) ? ext : kind === 'jsonl' ? '.jsonl' : '.txt'}${gzip ? '.gz' : ''}`;
}

function tokenizedStats(tokenizer: TextTokenizer, r: TokenizeResult): TokenizedStats {
  const s = r.meta.stats;
  return { tokenizer: tokenizer.origin, cacheKey: r.meta.key, examples: s.examples, tokens: s.tokens, lossTokens: s.lossTokens, lengths: s.lengths, ...(s.overLong ? { overLong: s.overLong } : {}), badRecords: s.badRecords };
}

/** The hidden working folder of an import in progress: `.importing-PID-RANDOM-NAME`. */
export const IMPORTING_PREFIX = '.importing-';

/** Imports older than this whose process cannot be told (a name from an older version) are swept. */
const STALE_IMPORT_MS = 24 * 3600 * 1000;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DatasetRegistry {
  constructor(
    private readonly catalog: DatasetCatalog,
    /** Folder holding one subfolder of files per dataset (the layout's `datasets`). */
    private readonly root: string,
    private readonly cache: TokenCache,
  ) {}

  /**
   * Removes the working folders of imports whose process is gone (killed mid-import); returns
   * their names. Imports of live processes, this one's included, are left alone.
   */
  sweepInterruptedImports(now = Date.now()): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      if (!name.startsWith(IMPORTING_PREFIX)) continue;
      const full = path.join(this.root, name);
      const pid = /^(\d+)-[0-9a-f]{8}-/.exec(name.slice(IMPORTING_PREFIX.length))?.[1];
      let stale: boolean;
      if (pid !== undefined) stale = Number(pid) !== process.pid && !processAlive(Number(pid));
      else {
        try {
          stale = now - statSync(full).mtimeMs > STALE_IMPORT_MS;
        } catch {
          continue;
        }
      }
      if (!stale) continue;
      rmSync(full, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  list(): Promise<DatasetManifest[]> {
    return this.catalog.list();
  }

  async get(name: string): Promise<DatasetManifest> {
    const m = await this.catalog.get(name);
    if (!m) throw new NotFoundError(`no dataset named ${JSON.stringify(name)} (see \`dynamics datasets list\`)`);
    return m;
  }

  /** Absolute path of a dataset's stored data file. */
  dataFile(m: DatasetManifest): string {
    return path.join(this.root, m.name, m.file);
  }

  async import(file: string, options: ImportOptions): Promise<DatasetManifest> {
    const { name } = options;
    if (!DATASET_NAME.test(name)) throw new UserError(`the dataset name ${JSON.stringify(name)} must be 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit`);
    if ((await this.catalog.get(name)) || existsSync(path.join(this.root, name))) throw new UserError(`a dataset named ${JSON.stringify(name)} already exists`);
    const info = await inspectSource(file, options.kind);

    // Work in a hidden folder and rename it into place at the end: a failed import leaves nothing,
    // and one cut short with its process (a crash, a kill) is swept by the next start-up, which
    // tells it from another process's import in progress by the process id in its name.
    const work = path.join(this.root, `${IMPORTING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}-${name}`);
    await mkdir(work, { recursive: true });
    try {
      const stored = storedName(path.basename(file), info.kind, info.gzip);
      const copy = path.join(work, stored);
      await copyFile(file, copy);
      const textMode = info.kind === 'text' ? (options.textMode ?? 'paragraphs') : null;
      const read = textMode ? { textMode } : {};
      const report = await checkFile(copy, {
        kind: info.kind,
        read,
        ...(options.policy ? { policy: options.policy } : {}),
        onProgress: (b, t) => options.onProgress?.('checking', b, t),
      });
      if (!report.usable || report.format === null) {
        const first = report.problems.slice(0, 3).map((p) => formatProblem(file, p)).join('; ');
        throw new UserError(`${file} cannot be imported: ${report.reason ?? 'it holds no examples'}${first ? `. First problems: ${first}` : ''}`);
      }
      const manifest: DatasetManifest = {
        schema: 1,
        name,
        createdAt: new Date().toISOString(),
        source: { name: path.basename(file), bytes: info.bytes },
        file: stored,
        gzip: info.gzip,
        contentHash: report.contentHash,
        fileKind: info.kind,
        textMode,
        format: report.format,
        stats: { examples: report.examples, badRecords: report.badRecords, chars: report.chars, problems: report.problems },
        tokenized: {},
      };
      if (options.tokenizer) {
        // Messages name the user's file, not the working copy's temporary path.
        const r = await tokenizeFile(copy, options.tokenizer, this.cache, { ...this.tokenizeOptions(manifest, options), displayName: file });
        manifest.tokenized[options.tokenizer.hash] = tokenizedStats(options.tokenizer, r);
      }
      // The manifest also travels in the folder so the files stay self-describing.
      await writeFile(path.join(work, 'manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
      await rename(work, path.join(this.root, name));
      await this.catalog.put(manifest);
      return manifest;
    } catch (err) {
      await rm(work, { recursive: true, force: true });
      throw err;
    }
  }

  private tokenizeOptions(m: DatasetManifest, extra: { policy?: ImportPolicy; onProgress?: ImportOptions['onProgress'] } = {}): TokenizeOptions {
    return {
      kind: m.fileKind,
      contentHash: m.contentHash,
      ...(m.textMode ? { read: { textMode: m.textMode } } : {}),
      ...(extra.policy ? { policy: extra.policy } : {}),
      ...(extra.onProgress ? { onProgress: (p) => extra.onProgress!('tokenizing', p.bytesRead, p.totalBytes) } : {}),
    };
  }

  /** Opens a stored dataset under `tokenizer`, tokenizing it on first use; records its token stats. */
  async tokenized(name: string, tokenizer: TextTokenizer, onProgress?: ImportOptions['onProgress']): Promise<TokenizedDataset> {
    const m = await this.get(name);
    const r = await tokenizeFile(this.dataFile(m), tokenizer, this.cache, this.tokenizeOptions(m, onProgress ? { onProgress } : {}));
    if (!m.tokenized[tokenizer.hash] || m.tokenized[tokenizer.hash]!.cacheKey !== r.meta.key) {
      m.tokenized[tokenizer.hash] = tokenizedStats(tokenizer, r);
      await this.catalog.put(m);
    }
    return TokenizedDataset.open(r);
  }

  /**
   * A dataset reference as run configs hold it: the name of an imported dataset, else a file path
   * (tokenized straight into the cache).
   */
  async open(ref: string, tokenizer: TextTokenizer): Promise<TokenizedDataset> {
    if (DATASET_NAME.test(ref) && (await this.catalog.get(ref))) return this.tokenized(ref, tokenizer);
    if (existsSync(ref)) return (await TokenizedDataset.build(ref, tokenizer, this.cache)).dataset;
    throw new NotFoundError(`${JSON.stringify(ref)} is neither an imported dataset nor a file`);
  }

  async remove(name: string): Promise<void> {
    await this.get(name);
    await this.catalog.remove(name);
    await rm(path.join(this.root, name), { recursive: true, force: true });
  }

  /** Deletes token cache entries no stored dataset uses any more, and stale or half-written ones. */
  async pruneCache(): Promise<string[]> {
    const live = new Set((await this.list()).flatMap((m) => Object.values(m.tokenized).map((t) => t.cacheKey)));
    return this.cache.prune((meta) => live.has(meta.key));
  }
}

/** Reads a dataset folder on its own (its manifest.json beside its data file), without a catalog. */
export async function loadDataset(dir: string): Promise<{ manifest: DatasetManifest; dataFile: string }> {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) throw new NotFoundError(`${dir} is not a dataset folder (it has no manifest.json)`);
  const manifest = JSON.parse(await readFile(file, 'utf8')) as DatasetManifest;
  if (manifest.schema !== 1) throw new UserError(`${file} has an unknown schema ${String(manifest.schema)}`);
  return { manifest, dataFile: path.join(dir, manifest.file) };
}
