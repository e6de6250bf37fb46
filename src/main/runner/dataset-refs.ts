// How a run configuration names its data, and how a name becomes token sequences. A dataset
// reference (`sources[].dataset`, `domains[].dataset`) is one of:
// - `bundled:NAME`: a corpus shipped with the app (resources/corpora/NAME, already split);
// - the name of a dataset imported with `dynamics datasets import` (split deterministically);
// - a path (relative to the config file's folder) to a JSONL or text file, tokenized into the
//   token cache on first use and split deterministically;
// - a path to a folder holding its own splits: train.jsonl, eval.jsonl, test.jsonl (or .txt).
// An imported name wins over a file of the same name in the config's folder.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { NotFoundError, UserError } from '../../shared/errors';
import { DATASET_NAME } from '../data/catalog';
import { TokenizedDataset, type DatasetSplits } from '../data/dataset';
import type { DatasetRegistry } from '../data/registry';
import type { SequenceSource, Truncation } from '../data/sequences';
import { DEFAULT_SPLIT, SPLIT_NAMES, type SplitName, type SplitSpec } from '../data/splits';
import type { TokenCache } from '../data/token-cache';
import type { TextTokenizer } from '../data/tokenizer';

export const BUNDLED_PREFIX = 'bundled:';
/** File names a pre-split folder may use for each split, in order of preference. */
const SPLIT_FILE_EXTENSIONS = ['.jsonl', '.jsonl.gz', '.txt', '.md'];

export interface DatasetRefContext {
  tokenizer: TextTokenizer;
  cache: TokenCache;
  /** Imported datasets; absent when the data directory has none to offer. */
  registry?: DatasetRegistry;
  /** Relative paths are resolved against this folder (the config file's). */
  baseDir: string;
  /** The bundled resources folder (holding corpora/). */
  resourcesDir: string;
  /** How single-file datasets are split. */
  split?: SplitSpec;
  /** Called before a file is tokenized or read from the cache, for a progress line. */
  onOpen?: (what: string) => void;
}

/** One dataset's three splits as tokenized examples, ready to be cut into sequences. */
export interface ResolvedDataset {
  ref: string;
  /** What it resolved to, in words (for messages and the run report). */
  description: string;
  /** The split's rows of seqLen tokens; `truncation`: what a padded row does with a longer example (default: cut from the left). */
  sequences(split: SplitName, seqLen: number, truncation?: Truncation): SequenceSource;
  /** Tokens in the split (its examples' lengths summed). */
  tokens(split: SplitName): number;
  close(): void;
}

/** A dataset split by example key (a single file or an imported dataset). */
class SplitDataset implements ResolvedDataset {
  private readonly splits: DatasetSplits;
  constructor(
    readonly ref: string,
    readonly description: string,
    private readonly dataset: TokenizedDataset,
    spec: SplitSpec,
  ) {
    this.splits = dataset.split(spec);
  }

  sequences(split: SplitName, seqLen: number, truncation?: Truncation): SequenceSource {
    try {
      return this.splits.sequences(split, { seqLen, ...(truncation ? { truncation } : {}) });
    } catch (err) {
      if (err instanceof UserError) throw new UserError(`dataset ${JSON.stringify(this.ref)} (${this.description}): ${err.message}`);
      throw err;
    }
  }

  tokens(split: SplitName): number {
    return this.splits.sizes()[split].tokens;
  }

  close(): void {
    this.dataset.close();
  }
}

/** A folder with one file per split (the bundled corpora's layout). */
class PresplitDataset implements ResolvedDataset {
  private readonly whole: Record<SplitName, DatasetSplits>;
  constructor(
    readonly ref: string,
    readonly description: string,
    private readonly parts: Record<SplitName, TokenizedDataset>,
  ) {
    // Every example of a split file belongs to that split: eval and test sizes 0 keep them all in "train".
    this.whole = Object.fromEntries(SPLIT_NAMES.map((s) => [s, parts[s].split({ eval: 0, test: 0 })])) as Record<SplitName, DatasetSplits>;
  }

  sequences(split: SplitName, seqLen: number, truncation?: Truncation): SequenceSource {
    return this.whole[split].sequences('train', { seqLen, ...(truncation ? { truncation } : {}) });
  }

  tokens(split: SplitName): number {
    return this.whole[split].sizes().train.tokens;
  }

  close(): void {
    for (const s of SPLIT_NAMES) this.parts[s].close();
  }
}

function splitFile(dir: string, split: SplitName): string | null {
  for (const ext of SPLIT_FILE_EXTENSIONS) {
    const file = path.join(dir, `${split}${ext}`);
    if (existsSync(file)) return file;
  }
  return null;
}

async function openPresplit(ref: string, dir: string, description: string, ctx: DatasetRefContext): Promise<ResolvedDataset> {
  const files = {} as Record<SplitName, string>;
  for (const s of SPLIT_NAMES) {
    const f = splitFile(dir, s);
    if (!f) throw new UserError(`dataset ${JSON.stringify(ref)}: the folder ${dir} has no ${s}.jsonl (a dataset folder holds train, eval and test files)`);
    files[s] = f;
  }
  const parts = {} as Record<SplitName, TokenizedDataset>;
  ctx.onOpen?.(ref);
  try {
    for (const s of SPLIT_NAMES) {
      parts[s] = (await TokenizedDataset.build(files[s], ctx.tokenizer, ctx.cache)).dataset;
    }
  } catch (err) {
    for (const p of Object.values(parts)) p.close();
    throw err;
  }
  return new PresplitDataset(ref, description, parts);
}

/** Opens one dataset reference under the run's tokenizer (tokenizing on first use). */
export async function resolveDatasetRef(ref: string, ctx: DatasetRefContext): Promise<ResolvedDataset> {
  const spec = ctx.split ?? DEFAULT_SPLIT;
  if (ref.startsWith(BUNDLED_PREFIX)) {
    const name = ref.slice(BUNDLED_PREFIX.length);
    const root = path.join(ctx.resourcesDir, 'corpora');
    if (!DATASET_NAME.test(name) || !existsSync(path.join(root, name))) {
      const known = bundledNames(root);
      throw new NotFoundError(`there is no bundled corpus named ${JSON.stringify(name)}${known.length > 0 ? ` (bundled: ${known.join(', ')})` : ''}`);
    }
    return openPresplit(ref, path.join(root, name), `the bundled corpus ${name}`, ctx);
  }
  if (ctx.registry && DATASET_NAME.test(ref)) {
    const imported = await ctx.registry.get(ref).then(
      () => true,
      (err: unknown) => {
        if (err instanceof NotFoundError) return false;
        throw err;
      },
    );
    if (imported) {
      ctx.onOpen?.(ref);
      const dataset = await ctx.registry.tokenized(ref, ctx.tokenizer);
      return new SplitDataset(ref, `the imported dataset ${ref}`, dataset, spec);
    }
  }
  const file = path.resolve(ctx.baseDir, ref);
  if (!existsSync(file)) {
    throw new NotFoundError(`dataset ${JSON.stringify(ref)} is neither an imported dataset, a bundled corpus (bundled:NAME), nor a file or folder (looked for ${file})`);
  }
  if (statSync(file).isDirectory()) return openPresplit(ref, file, `the folder ${file}`, ctx);
  ctx.onOpen?.(ref);
  const dataset = (await TokenizedDataset.build(file, ctx.tokenizer, ctx.cache)).dataset;
  return new SplitDataset(ref, `the file ${file}`, dataset, spec);
}

/** The bundled corpora: the folders under resources/corpora (README.md and MANIFEST.json sit beside them). */
function bundledNames(root: string): string[] {
  try {
    return readdirSync(root).filter((n) => statSync(path.join(root, n)).isDirectory()).sort();
  } catch {
    return [];
  }
}
