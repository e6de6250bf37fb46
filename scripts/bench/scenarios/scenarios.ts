// The scenario benchmark's mini-scenarios, in the paper's style (METHOD §8): 1–3 target domains,
// 3–7 constraint domains held at the base model's loss, and sources that are the targets' and some
// constraints' train splits plus auxiliary sources that are no domain at all — helpful (`general`,
// the pretraining mix) or harmful (`scrambled`, real text with its words shuffled; a corpus unlike
// the others). All on the bundled base model and corpora. The fine-tuning settings are
// the demo's (LoRA on every block linear layer, batch 8 × 64, constant learning rate 1e-3), with
// the paper's lengths scaled to the run (256 steps: probe cap 16 where the paper has 128 for 2,048).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../../../src/main/data/prng';
import { paperExactOptions, runConfigSchema, type RunConfig, type RunConfigInput } from '../../../src/shared/run-config';

export interface ScenarioSpec {
  id: string;
  /** What the scenario stands for, in words. */
  story: string;
  targets: string[];
  /** Constraint domains; the reference is base × (1 + tolerance), DEFAULT_TOLERANCE unless given. */
  constraints: { domain: string; tolerance?: number }[];
  /** Domains whose train split is also a source (the targets always are). */
  domainSources: string[];
  /** Auxiliary sources: a bundled corpus that is no domain here, or `scrambled`. */
  aux: string[];
  /** The auxiliary sources expected to hurt (for the report; the methods are not told). */
  harmful: string[];
}

/** Fine-tuning and evaluation settings shared by every scenario. */
export interface BenchSettings {
  steps: number;
  batchSize: number;
  seqLength: number;
  learningRate: number;
  evalInterval: number;
  regularBatches: number;
  probeBatches: number;
  testBatches: number;
  probeCap: number;
}

/**
 * Settings for a run length: a regular evaluation every quarter of the run, and the paper's probe
 * cap scaled with the run (128 for 2,048 steps). The evaluation sets are sized so that the standard
 * error of a domain's change from the base model (what feasibility is judged on: the same batches
 * before and after) is at most a quarter of the constraints' tolerance; the benchmark measures and
 * prints it per scenario.
 */
export function benchSettings(steps: number): BenchSettings {
  return {
    steps,
    batchSize: 8,
    seqLength: 64,
    learningRate: 1e-3,
    evalInterval: Math.max(1, Math.round(steps / 4)),
    regularBatches: 16,
    probeBatches: 8,
    testBatches: 32,
    probeCap: Math.max(2, Math.round((128 * steps) / 2048)),
  };
}

/**
 * Every constraint's tolerance: its reference is the base model's loss × (1 + tolerance). The paper's
 * references are the base loss itself; a tolerance of 0.5% makes "no worse" measurable with evaluation
 * sets this benchmark can afford (a change of 0 is inside the noise of any finite set).
 */
export const DEFAULT_TOLERANCE = 0.005;

export const FULL_SETTINGS: BenchSettings = benchSettings(256);

export const BASE_MODEL = 'bundled:dynamics-demo-2m';
/** Auxiliary, harmful: real text of five corpora with the words of every line shuffled. */
export const SCRAMBLED = 'scrambled';
/** Auxiliary, helpful: a slice of every corpus's train split (the pretraining mix: a regularizer). */
export const GENERAL = 'general';
/** The generated auxiliary corpora (everything else is a bundled corpus). */
export const GENERATED = [SCRAMBLED, GENERAL] as const;

export const SCENARIOS: readonly ScenarioSpec[] = [
  {
    id: 'code',
    story: 'specialize on JavaScript code; keep API prose, licenses and email (email has no source of its own)',
    targets: ['code'],
    constraints: [{ domain: 'api-docs' }, { domain: 'licenses' }, { domain: 'email' }],
    domainSources: ['api-docs', 'licenses'],
    aux: [GENERAL, SCRAMBLED],
    harmful: [SCRAMBLED],
  },
  {
    id: 'manpages',
    story: 'specialize on manual pages; keep API prose, dictionary, email and licenses',
    targets: ['manpages'],
    constraints: [{ domain: 'api-docs' }, { domain: 'dictionary' }, { domain: 'email' }, { domain: 'licenses' }],
    domainSources: ['dictionary', 'email'],
    aux: [GENERAL, SCRAMBLED],
    harmful: [SCRAMBLED],
  },
  {
    id: 'email',
    story: 'specialize on email; keep the dictionary, licenses and man pages; two unrelated corpora on offer',
    targets: ['email'],
    constraints: [{ domain: 'dictionary' }, { domain: 'licenses' }, { domain: 'manpages' }],
    domainSources: ['dictionary', 'licenses', 'manpages'],
    aux: ['code', 'arithmetic'],
    harmful: ['code'],
  },
  {
    id: 'dict+arith',
    story: 'two targets (dictionary glosses, arithmetic); keep email, licenses, code and API prose',
    targets: ['dictionary', 'arithmetic'],
    constraints: [{ domain: 'email' }, { domain: 'licenses' }, { domain: 'code' }, { domain: 'api-docs' }],
    domainSources: ['email', 'code'],
    aux: [GENERAL, SCRAMBLED],
    harmful: [SCRAMBLED],
  },
  {
    id: 'api-docs-6c',
    story: 'specialize on API prose under six constraints (every other domain)',
    targets: ['api-docs'],
    constraints: [{ domain: 'licenses' }, { domain: 'dictionary' }, { domain: 'email' }, { domain: 'code' }, { domain: 'manpages' }, { domain: 'arithmetic' }],
    domainSources: ['code', 'email'],
    aux: [GENERAL, SCRAMBLED],
    harmful: [SCRAMBLED],
  },
  {
    id: 'three-targets',
    story: 'three targets (licenses, code, man pages); keep dictionary, email and API prose',
    targets: ['licenses', 'code', 'manpages'],
    constraints: [{ domain: 'dictionary' }, { domain: 'email' }, { domain: 'api-docs' }],
    domainSources: ['dictionary'],
    aux: [GENERAL, SCRAMBLED],
    harmful: [SCRAMBLED],
  },
  {
    id: 'arithmetic-5c',
    story: 'specialize on arithmetic; keep five text domains',
    targets: ['arithmetic'],
    constraints: [{ domain: 'licenses' }, { domain: 'dictionary' }, { domain: 'email' }, { domain: 'code' }, { domain: 'manpages' }],
    domainSources: ['email', 'code'],
    aux: ['api-docs', SCRAMBLED],
    harmful: [SCRAMBLED],
  },
  {
    id: 'code+api-5c',
    story: 'two targets (code, API prose) under five constraints, three of them without a source of their own',
    targets: ['code', 'api-docs'],
    constraints: [{ domain: 'licenses' }, { domain: 'dictionary' }, { domain: 'email' }, { domain: 'manpages' }, { domain: 'arithmetic' }],
    domainSources: ['email', 'licenses'],
    aux: [GENERAL, SCRAMBLED],
    harmful: [SCRAMBLED],
  },
];

/** Where each dataset reference points: bundled corpora, or the generated `scrambled` folder. */
export function datasetRef(name: string, auxDir: string): string {
  return (GENERATED as readonly string[]).includes(name) ? path.join(auxDir, name) : `bundled:${name}`;
}

/** The scenario as a run configuration (strategy DynaMiCS with every option at the paper's setting). */
export function scenarioConfig(spec: ScenarioSpec, settings: BenchSettings, seed: number, auxDir: string): RunConfig {
  const sourceNames = [...spec.targets, ...spec.domainSources, ...spec.aux];
  const input: RunConfigInput = {
    name: `bench ${spec.id}`,
    seed,
    device: 'cpu',
    model: { path: BASE_MODEL, adapter: { kind: 'lora', rank: 8, alpha: 16, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] } },
    sources: sourceNames.map((n) => ({ id: n, dataset: datasetRef(n, auxDir) })),
    domains: [
      ...spec.targets.map((d) => ({ id: d, dataset: datasetRef(d, auxDir), role: 'target' as const })),
      ...spec.constraints.map((c) => ({
        id: c.domain,
        dataset: datasetRef(c.domain, auxDir),
        role: 'constraint' as const,
        reference: { kind: 'relative' as const, tolerance: c.tolerance ?? DEFAULT_TOLERANCE },
      })),
    ],
    training: { steps: settings.steps, batchSize: settings.batchSize, seqLength: settings.seqLength, learningRate: settings.learningRate },
    evaluation: { interval: settings.evalInterval, regularBatches: settings.regularBatches, probeBatches: settings.probeBatches, testBatches: settings.testBatches },
    strategy: { kind: 'dynamics' },
    dynamics: { schedule: { kind: 'preset', preset: 'none' }, probeCap: settings.probeCap, solver: 'lp', margin: 0 },
  };
  const parsed = runConfigSchema.parse(input);
  return { ...parsed, beyondPaper: paperExactOptions(parsed.beyondPaper) };
}

const SCRAMBLE_FROM = ['licenses', 'dictionary', 'email', 'api-docs', 'manpages'];
const GENERAL_FROM = ['licenses', 'dictionary', 'email', 'code', 'api-docs', 'manpages', 'arithmetic'];
const AUX_VERSION = 'aux-v1';

function shuffleWords(text: string, rng: Rng): string {
  return text
    .split('\n')
    .map((line) => {
      const words = line.split(' ');
      for (let i = words.length - 1; i > 0; i--) {
        const j = Math.floor(rng.nextFloat() * (i + 1));
        [words[i], words[j]] = [words[j]!, words[i]!];
      }
      return words.join(' ');
    })
    .join('\n');
}

/**
 * Writes the generated auxiliary corpora under `auxDir` (once; a VERSION file marks them done), each
 * a folder with train/eval/test.jsonl built from the same splits of the bundled corpora:
 * - `scrambled`: every fifth document of five text corpora with the words of every line shuffled
 *   by a seeded generator: the vocabulary of real text in the wrong order, a plausible bad source;
 * - `general`: every seventh document of all seven corpora, unchanged: the pretraining mix.
 * Each is near one domain in size.
 */
export function ensureAux(resourcesDir: string, auxDir: string): string {
  const stamp = path.join(auxDir, 'VERSION');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === AUX_VERSION) return auxDir;
  const recipes = [
    { name: SCRAMBLED, from: SCRAMBLE_FROM, every: 5, transform: shuffleWords },
    { name: GENERAL, from: GENERAL_FROM, every: 7, transform: (t: string) => t },
  ];
  mkdirSync(auxDir, { recursive: true });
  for (const r of recipes) {
    const dir = path.join(auxDir, r.name);
    const tmp = `${dir}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const split of ['train', 'eval', 'test'] as const) {
      const rng = Rng.fromSeed(`${AUX_VERSION}/${r.name}/${split}`);
      const out: string[] = [];
      for (const corpus of r.from) {
        const lines = readFileSync(path.join(resourcesDir, 'corpora', corpus, `${split}.jsonl`), 'utf8').split('\n').filter((l) => l.length > 0);
        for (let k = 0; k < lines.length; k += r.every) {
          const doc = JSON.parse(lines[k]!) as { text: string };
          out.push(JSON.stringify({ text: r.transform(doc.text, rng) }));
        }
      }
      writeFileSync(path.join(tmp, `${split}.jsonl`), `${out.join('\n')}\n`);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  writeFileSync(stamp, AUX_VERSION);
  return auxDir;
}
