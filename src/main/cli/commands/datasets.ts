// `dynamics datasets check|import|list`: check a data file and report its problems with their
// lines, import it under the data directory with its stats, list what is imported.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../../shared/errors';
import { JsonDatasetCatalog } from '../../data/catalog';
import { checkFile, formatProblem, type CheckReport } from '../../data/check';
import type { TextMode } from '../../data/reader';
import { TokenizedDataset } from '../../data/dataset';
import { DatasetRegistry } from '../../data/registry';
import type { PaddedSequences } from '../../data/sequences';
import type { FileKind } from '../../data/source';
import { renderHistogram } from '../../data/stats';
import { TokenCache } from '../../data/token-cache';
import { describeEncodePath, loadTokenizer, type TextTokenizer } from '../../data/tokenizer';
import { dataLayout, resolveDataDir } from '../../paths';
import { parseCommandArgs, type CliIo, type Command } from '../command';

const SHOWN_PROBLEMS = 20;

function parseShare(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value);
  const n = pct ? Number(pct[1]) / 100 : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UserError(`--max-bad must be a share from 0 to 1 (or a percentage like 5%), not ${JSON.stringify(value)}`);
  return n;
}

function parseKind(value: string | undefined): FileKind | undefined {
  if (value === undefined) return undefined;
  if (value !== 'jsonl' && value !== 'text') throw new UserError(`--format must be jsonl or text, not ${JSON.stringify(value)}`);
  return value;
}

function parseTextMode(value: string | undefined): TextMode | undefined {
  if (value === undefined) return undefined;
  if (value !== 'paragraphs' && value !== 'file') throw new UserError(`--documents must be paragraphs or file, not ${JSON.stringify(value)}`);
  return value;
}

function onePositional(command: string, positionals: string[]): string {
  if (positionals.length === 0) throw new UserError(`\`dynamics ${command}\` needs a FILE`);
  if (positionals.length > 1) throw new UserError(`unexpected argument ${positionals[1]} for \`dynamics ${command}\``);
  return positionals[0]!;
}

/** Prints at most one progress line every few seconds, to stderr. */
function progressPrinter(io: CliIo): (phase: string, bytes: number, total: number) => void {
  let last = Date.now();
  return (phase, bytes, total) => {
    const now = Date.now();
    if (now - last < 5000) return;
    last = now;
    io.err(`${phase}: ${total > 0 ? Math.min(100, (100 * bytes) / total).toFixed(0) : '?'}%`);
  };
}

function reportLines(r: CheckReport): string[] {
  const lines = [
    `${r.file}: ${r.examples} example${r.examples === 1 ? '' : 's'}${r.format ? ` (${r.format})` : ''}, ${r.badRecords} bad record${r.badRecords === 1 ? '' : 's'} skipped${r.gzip ? ', gzip' : ''}`,
  ];
  for (const p of r.problems.slice(0, SHOWN_PROBLEMS)) lines.push(`  ${formatProblem(r.file, p)}`);
  if (r.badRecords > SHOWN_PROBLEMS) lines.push(`  … and ${r.badRecords - SHOWN_PROBLEMS} more`);
  if (r.examples > 0) {
    lines.push(`example lengths in characters (min ${r.chars.min}, mean ${Math.round(r.chars.total / r.chars.count)}, max ${r.chars.max}):`);
    lines.push(...renderHistogram(r.chars, 'chars'));
  }
  lines.push(r.usable ? 'usable: yes' : `usable: no: ${r.reason}`);
  return lines;
}

interface TruncationReport {
  seqLen: number;
  examples: number;
  /** Over-long examples, and what they lose cut from the left (the default). */
  truncated: number;
  tokensLost: number;
  lossTokensLost: number;
  /** The tokens of the over-long examples, all lost if they are dropped instead. */
  droppedTokens: number;
}

/** How many examples of `file` one padded row of seqLen tokens cannot hold, and what they would lose. */
async function truncationOf(file: string, tokenizer: TextTokenizer, seqLen: number, options: Parameters<typeof TokenizedDataset.build>[3]): Promise<TruncationReport> {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dynamics-check-'));
  try {
    const { dataset } = await TokenizedDataset.build(file, tokenizer, new TokenCache(cacheDir), options);
    try {
      const rows = dataset.split({ eval: 0, test: 0 }).sequences('train', { seqLen, mode: 'padded', truncation: 'left' }) as PaddedSequences;
      const t = rows.truncation;
      return { seqLen, examples: rows.count, truncated: t.examples, tokensLost: t.tokensLost, lossTokensLost: t.lossTokensLost, droppedTokens: t.tokensLost + t.examples * seqLen };
    } finally {
      dataset.close();
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function truncationLines(t: TruncationReport): string[] {
  if (t.truncated === 0) return [`every example fits in ${t.seqLen} tokens: none is truncated`];
  return [
    `${t.truncated} of ${t.examples} examples are longer than ${t.seqLen} tokens: cut from the left (the default, keeping their ends) they lose ${t.tokensLost} tokens, ${t.lossTokensLost} of them trained on; dropped, ${t.droppedTokens} tokens`,
  ];
}

const checkCommand: Command = {
  name: 'check',
  summary: 'parse a data file and report its problems',
  usage: `dynamics datasets check FILE [--format jsonl|text] [--documents paragraphs|file] [--max-bad SHARE] [--tokenizer DIR [--seq-len N]] [--json]

Reads FILE (JSONL with "text", "messages" or "prompt"/"completion"; .txt/.md; optionally gzip) and
reports every problem as FILE:LINE: reason. Exits 0 only when the file is usable: at least one
example, and no more than --max-bad of its records bad (default 10%). With --tokenizer (a model
folder with tokenizer.json), also says how that tokenizer encodes: the fast byte-level BPE, or
@huggingface/tokenizers and why; with --seq-len N as well, tokenizes the file and counts the
examples one padded row of N tokens cannot hold (chats and prompt/completion pairs) and the tokens
they lose.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('datasets check', argv, {
      format: { type: 'string' },
      documents: { type: 'string' },
      'max-bad': { type: 'string' },
      tokenizer: { type: 'string' },
      'seq-len': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const file = onePositional('datasets check', positionals);
    const seqLen = values['seq-len'] === undefined ? undefined : Number(values['seq-len']);
    if (seqLen !== undefined && !(Number.isInteger(seqLen) && seqLen >= 2)) throw new UserError(`--seq-len must be an integer of at least 2, not ${JSON.stringify(values['seq-len'])}`);
    if (seqLen !== undefined && !values.tokenizer) throw new UserError('--seq-len needs --tokenizer DIR: truncation is counted in tokens');
    const tokenizer = values.tokenizer ? await loadTokenizer(path.resolve(values.tokenizer)) : undefined;
    const maxBadShare = parseShare(values['max-bad']);
    const kind = parseKind(values.format);
    const textMode = parseTextMode(values.documents);
    const progress = progressPrinter(io);
    const report = await checkFile(file, {
      ...(kind ? { kind } : {}),
      ...(textMode ? { read: { textMode } } : {}),
      ...(maxBadShare !== undefined ? { policy: { maxBadShare } } : {}),
      onProgress: (b, t) => progress('checking', b, t),
    });
    const encoding = tokenizer ? { tokenizer: { origin: tokenizer.origin, encodePath: tokenizer.encodePath } } : {};
    // Text is packed (nothing cut); the other formats are padded, one example per row.
    const truncation =
      tokenizer && seqLen !== undefined && report.usable && report.format !== 'text'
        ? await truncationOf(file, tokenizer, seqLen, { ...(kind ? { kind } : {}), ...(textMode ? { read: { textMode } } : {}), ...(maxBadShare !== undefined ? { policy: { maxBadShare } } : {}) })
        : null;
    if (values.json) io.out(JSON.stringify({ ...report, ...encoding, ...(truncation ? { truncation } : {}) }));
    else {
      const lines = [...reportLines(report)];
      if (tokenizer) lines.push(`tokenizer ${tokenizer.origin}: encodes with ${describeEncodePath(tokenizer.encodePath)}`);
      if (truncation) lines.push(...truncationLines(truncation));
      else if (seqLen !== undefined && report.format === 'text') lines.push(`text is packed into rows of ${seqLen} tokens: nothing is truncated`);
      io.out(lines.join('\n'));
    }
    return report.usable ? 0 : 1;
  },
};

const importCommand: Command = {
  name: 'import',
  summary: 'store a data file as a named dataset, with its stats',
  usage: `dynamics datasets import FILE --name NAME [--tokenizer DIR] [--format jsonl|text] [--documents paragraphs|file] [--max-bad SHARE]

Copies FILE under the data directory's datasets/ as NAME after checking it (bad records are
skipped and reported; the import fails when nothing usable remains or more than --max-bad of the
records are bad, default 10%). With --tokenizer (a model folder with tokenizer.json), it is also
tokenized into the token cache and its token counts are recorded.`,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('datasets import', argv, {
      name: { type: 'string' },
      tokenizer: { type: 'string' },
      format: { type: 'string' },
      documents: { type: 'string' },
      'max-bad': { type: 'string' },
    });
    const file = onePositional('datasets import', positionals);
    if (!values.name) throw new UserError('`dynamics datasets import` needs --name NAME');
    const maxBadShare = parseShare(values['max-bad']);
    const kind = parseKind(values.format);
    const textMode = parseTextMode(values.documents);
    const layout = dataLayout(resolveDataDir(io.env));
    const tokenizer = values.tokenizer ? await loadTokenizer(path.resolve(values.tokenizer)) : undefined;
    const registry = new DatasetRegistry(new JsonDatasetCatalog(layout.datasets), layout.datasets, new TokenCache(layout.tokenCache));
    registry.sweepInterruptedImports();
    const progress = progressPrinter(io);
    const m = await registry.import(file, {
      name: values.name,
      ...(tokenizer ? { tokenizer } : {}),
      ...(kind ? { kind } : {}),
      ...(textMode ? { textMode } : {}),
      ...(maxBadShare !== undefined ? { policy: { maxBadShare } } : {}),
      onProgress: progress,
    });
    const lines = [`imported ${m.name}: ${m.stats.examples} ${m.format} example${m.stats.examples === 1 ? '' : 's'}, ${m.stats.badRecords} bad record${m.stats.badRecords === 1 ? '' : 's'} skipped`];
    for (const p of m.stats.problems.slice(0, SHOWN_PROBLEMS)) lines.push(`  ${formatProblem(file, p)}`);
    for (const t of Object.values(m.tokenized)) {
      lines.push(`tokens (${t.tokenizer}): ${t.tokens} (${t.lossTokens} with loss); lengths in tokens (min ${t.lengths.min}, max ${t.lengths.max}):`);
      lines.push(...renderHistogram(t.lengths, 'tokens'));
    }
    lines.push(`stored in ${path.join(layout.datasets, m.name)}`);
    io.out(lines.join('\n'));
    return 0;
  },
};

const listCommand: Command = {
  name: 'list',
  summary: 'list the imported datasets',
  usage: `dynamics datasets list [--json]

Lists the datasets stored under the data directory with their format and counts.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('datasets list', argv, { json: { type: 'boolean', default: false } }, false);
    const layout = dataLayout(resolveDataDir(io.env));
    const manifests = await new JsonDatasetCatalog(layout.datasets).list();
    if (values.json) {
      io.out(JSON.stringify(manifests));
      return 0;
    }
    if (manifests.length === 0) {
      io.out('no datasets imported yet (see `dynamics datasets import --help`)');
      return 0;
    }
    for (const m of manifests) {
      const tokens = Object.values(m.tokenized).map((t) => `${t.tokens} tokens`).join(', ');
      io.out(`${m.name}  ${m.format}  ${m.stats.examples} example${m.stats.examples === 1 ? '' : 's'}${tokens ? `  ${tokens}` : ''}  (${m.source.name})`);
    }
    return 0;
  },
};

export const datasetsCommand: Command = {
  name: 'datasets',
  summary: 'check, import and list datasets',
  usage: 'dynamics datasets check|import|list …',
  subcommands: [checkCommand, importCommand, listCommand],
};
