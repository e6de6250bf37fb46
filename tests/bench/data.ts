// npm run bench:data — tokenize and pack a generated JSONL of 200 MB, then of 400 MB, with our
// pipeline (streaming read, validation, tokenization, loss masks, token cache shards + index, then
// a packing pass reading every 512-token training sequence back) against a peer: the bare
// @huggingface/tokenizers encode loop over the same lines (readline + JSON.parse + encode, nothing
// kept). Each measurement runs in a fresh child process, so its peak RSS is its own; ours and the
// peer alternate (interleaved, the order flipping every repetition); medians over repetitions.
// Ends with one JSON line {"bench":"data",…}.
//
// Options: --sizes 200,400 (MB) --reps 1 --tokenizer DIR (default: the bundled tokenizer)
//          --seq-len 512 --dir DIR (generated files are kept there between runs; default a temp dir,
//          removed at the end) --child … (internal)
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizedDataset } from '../../src/main/data/dataset';
import { Rng } from '../../src/main/data/prng';
import { TokenCache } from '../../src/main/data/token-cache';
import { loadTokenizer } from '../../src/main/data/tokenizer';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200,400' },
    reps: { type: 'string', default: '1' },
    tokenizer: { type: 'string' },
    'seq-len': { type: 'string', default: '512' },
    dir: { type: 'string' },
    child: { type: 'string' },
    file: { type: 'string' },
    cache: { type: 'string' },
  },
});
const log = (text: string) => process.stderr.write(`${text}\n`);
const MB = 1e6;

function defaultTokenizer(): string {
  const bundled = path.join(root, 'resources', 'tokenizer');
  return existsSync(path.join(bundled, 'tokenizer.json')) ? bundled : path.join(root, 'tests', 'fixtures', 'data', 'tiny-chatml');
}

// ---------------------------------------------------------------- generated data

/** The bundled corpora's training documents (real text in 7 domains), or null when absent. */
function corpusDocuments(): string[] | null {
  const dir = path.join(root, 'resources', 'corpora');
  if (!existsSync(dir)) return null;
  const docs: string[] = [];
  for (const domain of readdirSync(dir).sort()) {
    const file = path.join(dir, domain, 'train.jsonl');
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim()) docs.push((JSON.parse(line) as { text: string }).text);
    }
  }
  return docs.length > 0 ? docs : null;
}

/** Pseudo-words with a Zipf-like frequency: the fallback when the corpora are not there. */
function pseudoDocument(rng: Rng, words: string[]): string {
  const logN = Math.log(words.length);
  const nWords = 40 + rng.nextInt(700);
  let text = '';
  for (let i = 0; i < nWords; i++) {
    text += words[Math.min(words.length - 1, Math.floor(Math.exp(rng.nextFloat() * logN)) - 1)]!;
    const r = rng.nextInt(100);
    text += r < 6 ? '. ' : r < 9 ? ', ' : r < 10 ? '\n' : ' ';
  }
  return text.trimEnd();
}

function pseudoWords(rng: Rng, n: number): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'the', 'and', 'ing', 'er', 'on', 'st', 'qu', 'ü', 'é', 'ñ', 'data', 'mod', 'el'];
  const words = ['the', 'of', 'and', 'to', 'a', 'in', 'is', 'that', 'for', 'it', 'model', 'data', 'loss', 'training'];
  while (words.length < n) {
    let w = '';
    for (let i = 0, k = 1 + rng.nextInt(4); i < k; i++) w += syllables[rng.nextInt(syllables.length)];
    words.push(w);
  }
  return words;
}

/**
 * Writes about `megabytes` MB of JSONL {"text"} lines: each line one to three random documents of
 * the bundled corpora (pseudo-text without them), numbered so that no two lines are equal.
 */
async function generate(file: string, megabytes: number): Promise<string> {
  const rng = Rng.fromSeed('bench-data');
  const docs = corpusDocuments();
  const words = docs ? [] : pseudoWords(rng, 30_000);
  const target = megabytes * MB;
  const out = createWriteStream(file);
  let written = 0;
  let chunk = '';
  for (let n = 0; written < target; n++) {
    const parts = 1 + rng.nextInt(3);
    const texts: string[] = [];
    for (let k = 0; k < parts; k++) texts.push(docs ? docs[rng.nextInt(docs.length)]! : pseudoDocument(rng, words));
    const line = `${JSON.stringify({ text: `${texts.join('\n\n')}\n(${n})` })}\n`;
    chunk += line;
    written += Buffer.byteLength(line);
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return docs ? 'bundled corpora documents' : 'pseudo-words (corpora not found)';
}

// ---------------------------------------------------------------- the two contenders (child side)

interface Measurement {
  mode: 'ours' | 'peer';
  bytes: number;
  seconds: number;
  mbps: number;
  tokens: number;
  examples: number;
  peakRssMB: number;
  packSeconds?: number;
  sequences?: number;
}

async function runOurs(file: string, tokenizerDir: string, cacheDir: string, seqLen: number): Promise<Measurement> {
  const tok = await loadTokenizer(tokenizerDir);
  const bytes = statSync(file).size;
  const t0 = performance.now();
  const { dataset, result } = await TokenizedDataset.build(file, tok, new TokenCache(cacheDir));
  const seconds = (performance.now() - t0) / 1000;
  // Packing: every training sequence of the split read back into a batch buffer, as the trainer would.
  const t1 = performance.now();
  const seqs = dataset.split({ eval: 0.01, test: 0.01 }).sequences('train', { seqLen, mode: 'packed' });
  const B = 8;
  const ids = new Int32Array(B * seqLen);
  const labels = new Int32Array(B * seqLen);
  for (let i = 0; i < seqs.count; i++) seqs.readInto(i, ids, labels, i % B);
  const packSeconds = (performance.now() - t1) / 1000;
  dataset.close();
  return {
    mode: 'ours', bytes, seconds, mbps: bytes / MB / seconds, tokens: result.meta.stats.tokens, examples: result.meta.stats.examples,
    peakRssMB: process.resourceUsage().maxRSS / 1024, packSeconds, sequences: seqs.count,
  };
}

async function runPeer(file: string, tokenizerDir: string): Promise<Measurement> {
  const tj = JSON.parse(readFileSync(path.join(tokenizerDir, 'tokenizer.json'), 'utf8')) as object;
  const cfg = JSON.parse(readFileSync(path.join(tokenizerDir, 'tokenizer_config.json'), 'utf8')) as object;
  const tok = new Tokenizer(tj, cfg);
  const bytes = statSync(file).size;
  const t0 = performance.now();
  let tokens = 0;
  let examples = 0;
  const lines = createInterface({ input: createReadStream(file, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0) continue;
    const { text } = JSON.parse(line) as { text: string };
    tokens += tok.encode(text, { add_special_tokens: false }).ids.length + 1;
    examples++;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { mode: 'peer', bytes, seconds, mbps: bytes / MB / seconds, tokens, examples, peakRssMB: process.resourceUsage().maxRSS / 1024 };
}

// ---------------------------------------------------------------- the parent

function child(mode: 'ours' | 'peer', file: string, tokenizerDir: string, cacheDir: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const argv = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, '--file', file, '--tokenizer', tokenizerDir, '--cache', cacheDir, '--seq-len', args['seq-len']];
    const p = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) reject(new Error(`the ${mode} child exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Measurement);
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r1 = (x: number) => Number(x.toFixed(1));
const r2 = (x: number) => Number(x.toFixed(2));

async function parent(): Promise<void> {
  const sizes = args.sizes.split(',').map(Number);
  const reps = Number(args.reps);
  const tokenizerDir = path.resolve(args.tokenizer ?? defaultTokenizer());
  const ownDir = !args.dir;
  const dir = args.dir ? path.resolve(args.dir) : mkdtempSync(path.join(os.tmpdir(), 'dynamics-bench-data-'));
  mkdirSync(dir, { recursive: true });
  log(`bench:data — tokenizer ${path.relative(root, tokenizerDir) || tokenizerDir}, sizes ${sizes.join(', ')} MB, ${reps} repetition(s), ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const results: Record<number, { ours: Measurement[]; peer: Measurement[] }> = {};
  try {
    for (const size of sizes) {
      const file = path.join(dir, `bench-${size}MB.jsonl`);
      if (!existsSync(file)) {
        const t = performance.now();
        const from = await generate(file, size);
        log(`generated ${path.basename(file)} (${(statSync(file).size / MB).toFixed(0)} MB, from ${from}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      results[size] = { ours: [], peer: [] };
    }
    for (let rep = 0; rep < reps; rep++) {
      for (const size of sizes) {
        const file = path.join(dir, `bench-${size}MB.jsonl`);
        const order: ('ours' | 'peer')[] = rep % 2 === 0 ? ['ours', 'peer'] : ['peer', 'ours'];
        for (const mode of order) {
          const cacheDir = path.join(dir, `cache-${mode}-${size}-${rep}`);
          const m = await child(mode, file, tokenizerDir, cacheDir);
          rmSync(cacheDir, { recursive: true, force: true });
          results[size]![mode].push(m);
          const pack = m.packSeconds !== undefined ? `, pack ${m.sequences} sequences in ${m.packSeconds.toFixed(1)} s` : '';
          log(`  rep ${rep} ${size} MB ${mode.padEnd(4)}: ${m.mbps.toFixed(2)} MB/s (${m.seconds.toFixed(1)} s, ${m.tokens} tokens)${pack}, peak RSS ${m.peakRssMB.toFixed(0)} MB`);
        }
      }
    }
  } finally {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }

  const summary: Record<string, unknown> = {};
  log('');
  log('size    ours MB/s  peer MB/s  ours/peer  ours peak RSS  peer peak RSS  pack s');
  for (const size of sizes) {
    const { ours, peer } = results[size]!;
    const row = {
      oursMBps: r2(median(ours.map((m) => m.mbps))),
      peerMBps: r2(median(peer.map((m) => m.mbps))),
      ratio: r2(median(ours.map((m) => m.mbps)) / median(peer.map((m) => m.mbps))),
      oursPeakRssMB: r1(median(ours.map((m) => m.peakRssMB))),
      peerPeakRssMB: r1(median(peer.map((m) => m.peakRssMB))),
      packSeconds: r1(median(ours.map((m) => m.packSeconds ?? 0))),
      tokens: ours[0]!.tokens,
      examples: ours[0]!.examples,
    };
    summary[`${size}MB`] = row;
    log(`${`${size} MB`.padEnd(8)}${String(row.oursMBps).padStart(9)}  ${String(row.peerMBps).padStart(9)}  ${String(row.ratio).padStart(9)}  ${`${row.oursPeakRssMB} MB`.padStart(13)}  ${`${row.peerPeakRssMB} MB`.padStart(13)}  ${String(row.packSeconds).padStart(6)}`);
  }
  const rss = sizes.map((s) => (summary[`${s}MB`] as { oursPeakRssMB: number }).oursPeakRssMB);
  const growth = rss.length > 1 ? r2(rss.at(-1)! / rss[0]!) : 1;
  const goal = Math.max(...rss) <= 300;
  log(`peak RSS ${rss.join(' → ')} MB across sizes (×${growth}); goal ≤ 300 MB: ${goal ? 'met' : 'missed'}`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'data', tokenizer: path.relative(root, tokenizerDir) || tokenizerDir, reps, seqLen: Number(args['seq-len']), ...summary, rssGrowth: growth, rssGoalMet: goal, loadavg: os.loadavg().map(r2) })}\n`,
  );
}

if (args.child) {
  const mode = args.child as 'ours' | 'peer';
  const m = mode === 'ours' ? await runOurs(args.file!, args.tokenizer!, args.cache!, Number(args['seq-len'])) : await runPeer(args.file!, args.tokenizer!);
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else {
  await parent();
}
