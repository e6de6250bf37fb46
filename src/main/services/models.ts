// models.*: the bundled models (resources/models/NAME, `bundled:NAME`) and the Hugging Face
// folders a user registered (the store's model catalog, `imported:N`). Registering validates the
// folder with the engine's loader (errors name the file and field) and keeps the folder where it
// is; info loads it again for the architecture, sizes and a memory estimate.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, NotFoundError, UserError } from '../../shared/errors';
import type { EventMap } from '../../shared/events';
import type { ModelDetails, ModelImportInput, ModelSummary } from '../../shared/services/models';
import { loadModelFolder, type ModelFolder } from '../engine/hf/folder';
import { modelInfo } from '../engine/hf/info';
import { allLinearTargets } from '../engine/hf/peft';
import { LORA_TARGETS, type LoraTarget } from '../engine/models/lora';
import type { ModelRecord } from '../store/types';

export const BUNDLED_MODEL = 'bundled:';
const IMPORTED_MODEL = 'imported:';

/** The part of the store's catalog this service uses. */
export interface ModelCatalog {
  models(): ModelRecord[];
  model(id: number): ModelRecord;
  addModel(m: { name: string; path: string; architecture?: string | null; parameters?: number | null; info?: Record<string, unknown> }): number;
  removeModel(id: number): void;
}

export interface EventSink {
  emit<E extends keyof EventMap>(event: E, payload: EventMap[E]): void;
}

/** How other services find a model's folder from its id. */
export interface ModelDirectory {
  dirOf(id: string): string;
  /** The value a run configuration's model.path takes for this model. */
  configPathOf(id: string): string;
}

interface FolderFacts {
  architecture: string;
  parameters: number;
  bytes: number;
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
}

function factsOf(folder: ModelFolder): FolderFacts {
  let bytes = 0;
  for (const f of folder.weights.files) bytes += f.size;
  return {
    architecture: folder.architecture,
    parameters: folder.parameterCount,
    bytes,
    hasTokenizer: folder.tokenizer !== null,
    hasChatTemplate: folder.tokenizer?.hasChatTemplate ?? false,
  };
}

function withFolder<T>(dir: string, fn: (folder: ModelFolder) => T): T {
  const folder = loadModelFolder(dir);
  try {
    return fn(folder);
  } finally {
    folder.close();
  }
}

export class ModelsService implements ModelDirectory {
  /** Facts of bundled folders, read once per modification time. */
  private readonly bundledFacts = new Map<string, { mtimeMs: number; facts: FolderFacts | null; problem: string | null }>();

  constructor(
    private readonly catalog: ModelCatalog,
    /** resources/models: one folder per bundled model. */
    private readonly bundledDir: string,
    private readonly events: EventSink,
  ) {}

  private bundledNames(): string[] {
    if (!existsSync(this.bundledDir)) return [];
    return readdirSync(this.bundledDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && existsSync(path.join(this.bundledDir, e.name, 'config.json')))
      .map((e) => e.name)
      .sort();
  }

  private bundledSummary(name: string): ModelSummary {
    const dir = path.join(this.bundledDir, name);
    const mtimeMs = statSync(path.join(dir, 'config.json')).mtimeMs;
    let cached = this.bundledFacts.get(name);
    if (!cached || cached.mtimeMs !== mtimeMs) {
      try {
        cached = { mtimeMs, facts: withFolder(dir, factsOf), problem: null };
      } catch (err) {
        cached = { mtimeMs, facts: null, problem: err instanceof Error ? err.message : String(err) };
      }
      this.bundledFacts.set(name, cached);
    }
    const f = cached.facts;
    return {
      id: `${BUNDLED_MODEL}${name}`, name, origin: 'bundled', dir, configPath: `${BUNDLED_MODEL}${name}`,
      architecture: f?.architecture ?? null, parameters: f?.parameters ?? null, bytes: f?.bytes ?? null,
      hasTokenizer: f?.hasTokenizer ?? false, hasChatTemplate: f?.hasChatTemplate ?? false, createdAt: null, problem: cached.problem,
    };
  }

  private importedSummary(r: ModelRecord): ModelSummary {
    const info = r.info as Partial<FolderFacts>;
    const present = existsSync(path.join(r.path, 'config.json'));
    return {
      id: `${IMPORTED_MODEL}${r.id}`, name: r.name, origin: 'imported', dir: r.path, configPath: r.path,
      architecture: r.architecture, parameters: r.parameters, bytes: typeof info.bytes === 'number' ? info.bytes : null,
      hasTokenizer: info.hasTokenizer === true, hasChatTemplate: info.hasChatTemplate === true, createdAt: r.createdAt,
      problem: present ? null : `the folder ${r.path} is gone or has no config.json any more`,
    };
  }

  private parseId(id: string): { bundled: string } | { imported: number } {
    if (id.startsWith(BUNDLED_MODEL)) {
      const name = id.slice(BUNDLED_MODEL.length);
      if (!this.bundledNames().includes(name)) throw new NotFoundError(`there is no bundled model ${JSON.stringify(name)}`);
      return { bundled: name };
    }
    if (id.startsWith(IMPORTED_MODEL)) {
      const n = Number(id.slice(IMPORTED_MODEL.length));
      if (Number.isSafeInteger(n) && n > 0) return { imported: n };
    }
    throw new NotFoundError(`there is no model ${JSON.stringify(id)} (model ids look like bundled:NAME or imported:N)`);
  }

  list(): ModelSummary[] {
    return [...this.bundledNames().map((n) => this.bundledSummary(n)), ...this.catalog.models().map((r) => this.importedSummary(r))];
  }

  get(id: string): ModelSummary {
    const ref = this.parseId(id);
    return 'bundled' in ref ? this.bundledSummary(ref.bundled) : this.importedSummary(this.catalog.model(ref.imported));
  }

  dirOf(id: string): string {
    return this.get(id).dir;
  }

  configPathOf(id: string): string {
    return this.get(id).configPath;
  }

  /** The model whose config path (or folder) is `configPath`, if known: how runs are tied back to a model. */
  findByConfigPath(configPath: string): ModelSummary | null {
    return this.list().find((m) => m.configPath === configPath || m.dir === configPath) ?? null;
  }

  import(input: ModelImportInput): ModelSummary {
    const dir = path.resolve(input.path);
    const progress = (phase: EventMap['model.import.progress']['phase'], done: number, message: string) => {
      if (input.progressId) this.events.emit('model.import.progress', { progressId: input.progressId, phase, done, total: 2, message });
    };
    const known = this.catalog.models().find((m) => path.resolve(m.path) === dir);
    if (known) throw new UserError(`the folder ${dir} is already registered as "${known.name}"`);
    if (path.resolve(this.bundledDir) === path.dirname(dir)) throw new UserError(`${dir} is a bundled model; it is listed already`);
    progress('reading', 0, `reading ${path.join(dir, 'config.json')} and the safetensors headers`);
    const facts = withFolder(dir, (folder) => {
      progress('checking', 1, 'checking the tokenizer files');
      if (!folder.tokenizer) throw new UserError(`${dir} has no tokenizer.json: a run needs the model's tokenizer to read its data`);
      return factsOf(folder);
    });
    const name = (input.name ?? path.basename(dir)).trim();
    if (name.length === 0) throw new InvalidInputError('a model name must not be empty');
    const id = this.catalog.addModel({
      name, path: dir, architecture: facts.architecture, parameters: facts.parameters,
      info: { bytes: facts.bytes, hasTokenizer: facts.hasTokenizer, hasChatTemplate: facts.hasChatTemplate },
    });
    progress('done', 2, `registered ${name}`);
    return this.importedSummary(this.catalog.model(id));
  }

  info(input: { id: string; batchSize?: number | undefined; seqLen?: number | undefined; loraRank?: number | undefined; loraTargets?: string[] | undefined }): ModelDetails {
    const summary = this.get(input.id);
    return withFolder(summary.dir, (folder) => {
      const rank = input.loraRank ?? 16;
      const targets = input.loraTargets ?? allLinearTargets(folder.config.model);
      const bad = targets.find((t) => !(LORA_TARGETS as readonly string[]).includes(t));
      if (bad !== undefined) throw new InvalidInputError(`loraTargets: ${bad} is not a LoRA target module (supported: ${LORA_TARGETS.join(', ')})`);
      const seqLen = input.seqLen ?? 512;
      const info = modelInfo(folder, {
        batchSize: input.batchSize ?? 8, seqLen, lora: { kind: 'lora', r: rank, alpha: 2 * rank, targetModules: targets as LoraTarget[] },
      });
      const s = info.shape;
      const notes: string[] = [];
      if (s.maxPositions !== null && seqLen > s.maxPositions) notes.push(`sequences of ${seqLen} tokens are longer than the model's ${s.maxPositions} positions`);
      if (info.unusedTensors.length > 0) notes.push(`${info.unusedTensors.length} checkpoint tensors are not used by the model (e.g. ${info.unusedTensors[0]})`);
      if (!info.tokenizer) notes.push('the folder has no tokenizer.json: runs and previews need one');
      const t = info.tokenizer;
      return {
        ...summary,
        architecture: info.architecture,
        parameters: info.parameters,
        bytes: info.checkpointBytes,
        hasTokenizer: t !== null,
        hasChatTemplate: t?.hasChatTemplate ?? false,
        shape: {
          layers: s.layers, hidden: s.hidden, intermediate: s.intermediate, heads: s.heads, kvHeads: s.kvHeads, headDim: s.headDim, vocab: s.vocab,
          maxPositions: s.maxPositions, tiedEmbeddings: s.tie, slidingWindow: s.slidingWindow,
        },
        storedDtypes: info.storedDtypes,
        checkpointFiles: info.checkpointFiles,
        torchDtype: info.torchDtype,
        tokenizer: t ? { model: t.model, vocabSize: t.vocabSize, bosToken: t.bosToken, eosToken: t.eosToken, hasChatTemplate: t.hasChatTemplate } : null,
        generation: {
          doSample: info.generation.doSample, temperature: info.generation.temperature, topP: info.generation.topP, topK: info.generation.topK,
          maxNewTokens: info.generation.maxNewTokens,
        },
        lora: { rank, alpha: info.lora.alpha, targets: [...info.lora.targets], parameters: info.lora.parameters },
        training: info.training,
        generationBytes: info.generationBytes,
        notes,
      };
    });
  }

  remove(id: string): void {
    const ref = this.parseId(id);
    if ('bundled' in ref) throw new UserError(`${id} is bundled with the app and cannot be removed`);
    this.catalog.removeModel(ref.imported);
  }
}
