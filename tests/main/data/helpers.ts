// Shared by the data tests: where the tokenizer fixtures live, and small file writers.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const FIXTURES = path.resolve(import.meta.dirname, '../../fixtures/data');
export const CHATML = path.join(FIXTURES, 'tiny-chatml');
export const LLAMA3 = path.join(FIXTURES, 'tiny-llama3');

/** Writes one JSON value per line. */
export function writeJsonl(file: string, rows: unknown[]): string {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

/** A deterministic sentence for example i (varied words, some non-ASCII). */
export function sentence(i: number, words = 12): string {
  const vocab = ['the', 'model', 'learns', 'from', 'data', 'and', 'café', 'mixture', 'loss', 'über', 'sequence', 'token', '数据', 'batch'];
  const out: string[] = [];
  for (let k = 0; k < words; k++) out.push(vocab[(i * 31 + k * 7 + ((i * k) % 5)) % vocab.length]!);
  return `${out.join(' ')} #${i}.`;
}
