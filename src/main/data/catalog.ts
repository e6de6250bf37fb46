// Dataset metadata behind a small interface, so the JSON manifests kept today beside each dataset's
// files can later be served by the SQLite store without changing callers.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Problem } from './check';
import type { ExampleKind } from './formats';
import type { TextMode } from './reader';
import type { FileKind } from './source';
import type { HistogramJson, OverLongRow } from './stats';

/** Token statistics of a dataset under one tokenizer. */
export interface TokenizedStats {
  tokenizer: string;
  cacheKey: string;
  examples: number;
  tokens: number;
  lossTokens: number;
  lengths: HistogramJson;
  /** Examples longer than each usual row length, and what they lose (absent in manifests from before it was counted). */
  overLong?: OverLongRow[];
  badRecords: number;
}

export interface DatasetManifest {
  schema: 1;
  name: string;
  createdAt: string;
  /** The file as the user gave it. */
  source: { name: string; bytes: number };
  /** The stored copy, relative to the dataset's folder. */
  file: string;
  gzip: boolean;
  /** sha256 of the stored bytes. */
  contentHash: string;
  fileKind: FileKind;
  textMode: TextMode | null;
  format: ExampleKind;
  stats: { examples: number; badRecords: number; chars: HistogramJson; problems: Problem[] };
  /** By tokenizer hash. */
  tokenized: Record<string, TokenizedStats>;
}

export interface DatasetCatalog {
  list(): Promise<DatasetManifest[]>;
  get(name: string): Promise<DatasetManifest | null>;
  put(manifest: DatasetManifest): Promise<void>;
  remove(name: string): Promise<void>;
}

export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Manifests as `<root>/<name>/manifest.json`, written atomically. */
export class JsonDatasetCatalog implements DatasetCatalog {
  constructor(private readonly root: string) {}

  private file(name: string): string {
    if (!DATASET_NAME.test(name)) throw new Error(`invalid dataset name ${JSON.stringify(name)}`);
    return path.join(this.root, name, 'manifest.json');
  }

  async list(): Promise<DatasetManifest[]> {
    if (!existsSync(this.root)) return [];
    const out: DatasetManifest[] = [];
    for (const name of (await readdir(this.root)).sort()) {
      if (!DATASET_NAME.test(name)) continue;
      const m = await this.get(name);
      if (m) out.push(m);
    }
    return out;
  }

  async get(name: string): Promise<DatasetManifest | null> {
    if (!DATASET_NAME.test(name)) return null;
    const file = this.file(name);
    if (!existsSync(file)) return null;
    const m = JSON.parse(await readFile(file, 'utf8')) as DatasetManifest;
    if (m.schema !== 1) throw new Error(`${file} has an unknown schema ${String(m.schema)}`);
    return m;
  }

  async put(manifest: DatasetManifest): Promise<void> {
    const file = this.file(manifest.name);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
    await rename(tmp, file);
  }

  async remove(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }
}
