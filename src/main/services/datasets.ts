// datasets.*: the bundled corpora (resources/corpora/NAME, read-only, pre-split) and the datasets
// a user imported (the data layer's DatasetRegistry under the data directory): lists, stats with
// problems by line, previews as the model sees them, checks and imports with progress events,
// and uploads from a browser.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, NotFoundError, UserError } from '../../shared/errors';
import type { CheckReport } from '../../shared/datasets';
import type { DatasetDetails, DatasetImportPhase, DatasetPreview, DatasetSummary, UploadTicket } from '../../shared/services/datasets';
import type { DatasetManifest } from '../data/catalog';
import { checkFile, type CheckOptions } from '../data/check';
import type { DatasetRegistry } from '../data/registry';
import { loadTokenizer, type TextTokenizer } from '../data/tokenizer';
import { previewExamples } from './dataset-preview';
import type { EventSink, ModelDirectory } from './models';
import type { Uploads } from './uploads';

export const BUNDLED_DATASET = 'bundled:';
const SPLITS = ['train', 'eval', 'test'] as const;
type Split = (typeof SPLITS)[number];

/** Paths a user imported from recently, offered again by files.places. */
export interface RecentPaths {
  add(file: string): void;
}

export interface DatasetsServiceDeps {
  registry: DatasetRegistry;
  /** resources/corpora. */
  corporaDir: string;
  models: ModelDirectory;
  uploads: Uploads;
  events: EventSink;
  recent?: RecentPaths;
}

interface BundledCorpus {
  name: string;
  dir: string;
  reports: Record<Split, CheckReport>;
  license: string | null;
}

export interface ImportInput {
  path?: string | undefined;
  uploadId?: string | undefined;
  name: string;
  tokenizerModelId?: string | undefined;
  format?: 'jsonl' | 'text' | undefined;
  textMode?: 'paragraphs' | 'file' | undefined;
  maxBadShare?: number | undefined;
  progressId?: string | undefined;
}

function addHistograms(a: CheckReport['chars'], b: CheckReport['chars']): CheckReport['chars'] {
  const buckets = [...a.buckets.map((x) => ({ ...x }))];
  b.buckets.forEach((x, k) => {
    if (buckets[k]) buckets[k]!.count += x.count;
    else buckets.push({ ...x });
  });
  const count = a.count + b.count;
  return { count, total: a.total + b.total, min: a.count === 0 ? b.min : b.count === 0 ? a.min : Math.min(a.min, b.min), max: Math.max(a.max, b.max), buckets };
}

export class DatasetsService {
  private readonly bundledCache = new Map<string, Promise<BundledCorpus>>();
  private licenses: Record<string, string> | null = null;

  constructor(private readonly deps: DatasetsServiceDeps) {}

  // ------------------------------------------------------------ bundled corpora

  private bundledNames(): string[] {
    const dir = this.deps.corporaDir;
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && SPLITS.every((s) => existsSync(path.join(dir, e.name, `${s}.jsonl`))))
      .map((e) => e.name)
      .sort();
  }

  private licenseOf(name: string): string | null {
    if (!this.licenses) {
      this.licenses = {};
      try {
        const manifest = JSON.parse(readFileSync(path.join(this.deps.corporaDir, 'MANIFEST.json'), 'utf8')) as { sources?: Record<string, { license?: string; package?: string; version?: string }> };
        for (const [k, v] of Object.entries(manifest.sources ?? {})) {
          this.licenses[k] = [v.package && v.version ? `${v.package} ${v.version}` : v.package, v.license].filter(Boolean).join('; ');
        }
      } catch {
        // A corpus folder without the manifest still lists, without its license line.
      }
    }
    return this.licenses[name] ?? null;
  }

  private bundled(name: string): Promise<BundledCorpus> {
    let p = this.bundledCache.get(name);
    if (!p) {
      const dir = path.join(this.deps.corporaDir, name);
      p = (async () => {
        const reports = {} as Record<Split, CheckReport>;
        for (const s of SPLITS) reports[s] = await checkFile(path.join(dir, `${s}.jsonl`), { kind: 'jsonl' });
        return { name, dir, reports, license: this.licenseOf(name) };
      })();
      p.catch(() => this.bundledCache.delete(name));
      this.bundledCache.set(name, p);
    }
    return p;
  }

  private bundledSummary(c: BundledCorpus): DatasetSummary {
    const r = c.reports;
    return {
      id: `${BUNDLED_DATASET}${c.name}`, name: c.name, origin: 'bundled', format: r.train.format ?? 'text', fileKind: 'jsonl',
      examples: r.train.examples + r.eval.examples + r.test.examples,
      badRecords: r.train.badRecords + r.eval.badRecords + r.test.badRecords,
      bytes: r.train.bytes + r.eval.bytes + r.test.bytes,
      sourceName: `corpora/${c.name}`,
      splits: { train: r.train.examples, eval: r.eval.examples, test: r.test.examples },
      tokens: [], createdAt: null, license: c.license,
    };
  }

  // ------------------------------------------------------------ imported datasets

  private importedSummary(m: DatasetManifest): DatasetSummary {
    return {
      id: m.name, name: m.name, origin: 'imported', format: m.format, fileKind: m.fileKind,
      examples: m.stats.examples, badRecords: m.stats.badRecords, bytes: m.source.bytes, sourceName: m.source.name, splits: null,
      tokens: Object.values(m.tokenized).map((t) => ({ tokenizer: t.tokenizer, examples: t.examples, tokens: t.tokens, lossTokens: t.lossTokens })),
      createdAt: Date.parse(m.createdAt), license: null,
    };
  }

  private importedDetails(m: DatasetManifest): DatasetDetails {
    return {
      ...this.importedSummary(m),
      chars: m.stats.chars,
      tokenLengths: Object.values(m.tokenized).map((t) => ({ tokenizer: t.tokenizer, examples: t.examples, tokens: t.tokens, lossTokens: t.lossTokens, lengths: t.lengths, overLong: t.overLong ?? null })),
      problems: m.stats.problems,
      file: this.deps.registry.dataFile(m),
      contentHash: m.contentHash,
    };
  }

  private bundledId(id: string): string | null {
    if (!id.startsWith(BUNDLED_DATASET)) return null;
    const name = id.slice(BUNDLED_DATASET.length);
    if (!this.bundledNames().includes(name)) throw new NotFoundError(`there is no bundled corpus ${JSON.stringify(name)}`);
    return name;
  }

  // ------------------------------------------------------------ the service

  async list(): Promise<DatasetSummary[]> {
    const bundled = await Promise.all(this.bundledNames().map(async (n) => this.bundledSummary(await this.bundled(n))));
    const imported = (await this.deps.registry.list()).map((m) => this.importedSummary(m));
    return [...bundled, ...imported];
  }

  async get(id: string): Promise<DatasetDetails> {
    const name = this.bundledId(id);
    if (name === null) return this.importedDetails(await this.deps.registry.get(id));
    const c = await this.bundled(name);
    const r = c.reports;
    return {
      ...this.bundledSummary(c),
      chars: addHistograms(addHistograms(r.train.chars, r.eval.chars), r.test.chars),
      tokenLengths: [],
      problems: SPLITS.flatMap((s) => r[s].problems),
      file: c.dir,
      contentHash: null,
    };
  }

  private async tokenizerOf(modelId: string | undefined): Promise<TextTokenizer | null> {
    if (modelId === undefined) return null;
    return loadTokenizer(this.deps.models.dirOf(modelId));
  }

  async preview(input: { id: string; count: number; offset: number; split?: Split | undefined; modelId?: string | undefined }): Promise<DatasetPreview> {
    const tokenizer = await this.tokenizerOf(input.modelId);
    const renderedWith = tokenizer ? `the tokenizer${tokenizer.chatTemplate ? ' and chat template' : ''} of ${tokenizer.origin}` : null;
    const name = this.bundledId(input.id);
    if (name !== null) {
      const split = input.split ?? 'train';
      const c = await this.bundled(name);
      const examples = await previewExamples({ file: path.join(c.dir, `${split}.jsonl`), kind: 'jsonl', textMode: null, offset: input.offset, count: input.count }, tokenizer);
      return { id: input.id, renderedWith, examples, total: c.reports[split].examples };
    }
    // An imported dataset is split by example key when a run opens it: the preview shows file order.
    const m = await this.deps.registry.get(input.id);
    const examples = await previewExamples({ file: this.deps.registry.dataFile(m), kind: m.fileKind, textMode: m.textMode, offset: input.offset, count: input.count }, tokenizer);
    return { id: input.id, renderedWith, examples, total: m.stats.examples };
  }

  /** The file behind a path or an upload, with the name to show in messages. */
  private sourceFile(input: { path?: string | undefined; uploadId?: string | undefined }): { file: string; shownAs: string; upload: string | null } {
    if (input.uploadId !== undefined) {
      const u = this.deps.uploads.file(input.uploadId);
      return { file: u.file, shownAs: u.fileName, upload: input.uploadId };
    }
    if (input.path === undefined) throw new InvalidInputError('give a path or an uploadId');
    const file = path.resolve(input.path);
    let st;
    try {
      st = statSync(file);
    } catch {
      throw new UserError(`cannot read ${file}: no such file`);
    }
    if (st.isDirectory()) throw new UserError(`${file} is a folder; choose a JSONL or text file`);
    return { file, shownAs: file, upload: null };
  }

  async check(input: { path?: string | undefined; uploadId?: string | undefined; format?: 'jsonl' | 'text' | undefined }): Promise<CheckReport> {
    const src = this.sourceFile(input);
    const options: CheckOptions = input.format ? { kind: input.format } : {};
    const report = await this.renamed(src, () => checkFile(src.file, options));
    return { ...report, file: src.shownAs };
  }

  /** Runs fn, showing the upload's own file name instead of its stored path in any message. */
  private async renamed<T>(src: { file: string; shownAs: string }, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof UserError && src.file !== src.shownAs) err.message = err.message.split(src.file).join(src.shownAs);
      throw err;
    }
  }

  async import(input: ImportInput): Promise<DatasetDetails> {
    const src = this.sourceFile(input);
    const tokenizer = await this.tokenizerOf(input.tokenizerModelId);
    let total = 0;
    let calls = 0;
    let lastEmit = 0;
    const emit = (phase: DatasetImportPhase, bytesDone: number, bytesTotal: number, force = false) => {
      if (!input.progressId) return;
      const now = Date.now();
      if (!force && now - lastEmit < 200) return;
      lastEmit = now;
      this.deps.events.emit('dataset.import.progress', { progressId: input.progressId, name: input.name, phase, bytesDone, bytesTotal, records: calls * 4096 });
    };
    try {
      total = statSync(src.file).size;
    } catch {
      total = 0;
    }
    emit('copying', 0, total, true);
    let phaseNow: DatasetImportPhase = 'copying';
    const m = await this.renamed(src, () =>
      this.deps.registry.import(src.file, {
        name: input.name,
        ...(tokenizer ? { tokenizer } : {}),
        ...(input.format ? { kind: input.format } : {}),
        ...(input.textMode ? { textMode: input.textMode } : {}),
        ...(input.maxBadShare !== undefined ? { policy: { maxBadShare: input.maxBadShare } } : {}),
        onProgress: (phase, bytes, totalBytes) => {
          if (phase !== phaseNow) {
            phaseNow = phase;
            calls = 0;
          }
          calls++;
          emit(phase, bytes, totalBytes);
        },
      }),
    );
    emit('done', total, total, true);
    if (src.upload) this.deps.uploads.discard(src.upload);
    else this.deps.recent?.add(src.file);
    return this.importedDetails(m);
  }

  async remove(id: string): Promise<void> {
    if (id.startsWith(BUNDLED_DATASET)) throw new UserError(`${id} is bundled with the app and cannot be removed`);
    await this.deps.registry.remove(id);
  }

  uploadBegin(fileName: string, bytes: number): UploadTicket {
    return this.deps.uploads.begin(fileName, bytes);
  }

  uploadChunk(uploadId: string, offset: number, data: string): Promise<{ received: number; complete: boolean }> {
    return this.deps.uploads.chunk(uploadId, offset, data);
  }

  uploadDiscard(uploadId: string): void {
    this.deps.uploads.discard(uploadId);
  }
}
