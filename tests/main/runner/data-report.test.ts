// A run says what each dataset gives and loses: opening a run on real files (a tiny model folder
// with the bundled tokenizer, prompt/completion pairs some longer than the sequence, a bundled-style
// text corpus) counts the truncated examples and lost tokens per source and domain, honours a
// source's `truncation` choice, and the report file carries the counts.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrtRuntime } from '../../../src/main/engine/runtime/ort-runtime';
import { describeDatasetUse, type DatasetUse } from '../../../src/main/runner/data-report';
import { PreparedRun } from '../../../src/main/runner/engine-setup';
import { JsonReportSink, type ReportFile } from '../../../src/main/runner/sink';
import { resourcesDir } from '../../../src/main/paths';
import { parseRunConfig } from '../../../src/shared/run-config';
import { tempDir } from '../../helpers/temp';
import { writeTinyCorpora, writeTinyModel } from './tiny-fixtures';

const dir = tempDir('dynamics-data-report-');
let prepared: PreparedRun;

beforeAll(async () => {
  writeTinyModel(path.join(dir, 'tiny-model'));
  writeTinyCorpora(path.join(dir, 'corpora'), ['code']);
  const rows = Array.from({ length: 300 }, (_, i) => ({
    prompt: `Question ${i}: what is ${i} plus ${i}?`,
    // Every fifth answer is far longer than the 32-token rows.
    completion: i % 5 === 0 ? ` The sum is ${2 * i}. ${'Each step of the addition is written out here in words. '.repeat(3)}` : ` ${2 * i}.`,
  }));
  writeFileSync(path.join(dir, 'qa.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const config = parseRunConfig({
    model: { path: 'tiny-model' },
    sources: [{ id: 'qa', dataset: 'qa.jsonl' }, { id: 'qa-drop', dataset: 'qa.jsonl', truncation: 'drop' }, { id: 'code', dataset: 'corpora/code' }],
    domains: [{ id: 'qa', dataset: 'qa.jsonl', role: 'target' }, { id: 'code', dataset: 'corpora/code', role: 'constraint' }],
    training: { seqLength: 32, batchSize: 2 },
  });
  prepared = await PreparedRun.open(config, {
    runtime: new OrtRuntime(), graphCacheDir: path.join(dir, 'graphs'), tokenCacheDir: path.join(dir, 'tokens'), resourcesDir: resourcesDir(), baseDir: dir, threads: 1,
  });
}, 120_000);

afterAll(() => prepared?.close());

const use = (role: DatasetUse['role'], id: string, split: string) => prepared.data.find((u) => u.role === role && u.id === id && u.split === split)!;

describe('the data a run reads', () => {
  it('counts the over-long examples of each source, cut from the left by default or dropped on request', () => {
    const left = use('source', 'qa', 'train');
    const drop = use('source', 'qa-drop', 'train');
    expect(left).toMatchObject({ dataset: 'qa.jsonl', seqLen: 32, truncation: 'left' });
    expect(drop.truncation).toBe('drop');
    // The same split, so the same examples are over-long; cut keeps their rows, drop loses them whole.
    expect(left.truncated).toBeGreaterThan(30);
    expect(drop.truncated).toBe(left.truncated);
    expect(drop.rows).toBe(left.rows - left.truncated);
    expect(drop.tokensLost).toBe(left.tokensLost + 32 * left.truncated);
    // Cut from the left, the prompts go first: the lost tokens are mostly not trained on.
    expect(left.lossTokensLost).toBeGreaterThan(0);
    expect(left.lossTokensLost).toBeLessThan(left.tokensLost);
    expect(prepared.sources.find((s) => s.id === 'qa-drop')!.sequences.count).toBe(drop.rows);
  });

  it('counts a domain per split, and nothing for packed text', () => {
    const evalSplit = use('domain', 'qa', 'eval');
    const testSplit = use('domain', 'qa', 'test');
    expect(evalSplit.truncation).toBe('left');
    expect(evalSplit.truncated + testSplit.truncated + use('source', 'qa', 'train').truncated).toBe(60);
    expect(use('source', 'code', 'train')).toMatchObject({ truncation: null, truncated: 0, tokensLost: 0 });
    expect(describeDatasetUse(use('source', 'code', 'train'))).toMatch(/packed rows of 32 tokens, nothing truncated$/);
    const left = use('source', 'qa', 'train');
    expect(describeDatasetUse(left)).toBe(
      `source qa (qa.jsonl), train split: ${left.truncated} examples longer than 32 tokens cut from the left (their ends kept), ${left.tokensLost} tokens lost (${left.lossTokensLost} of them trained on); ${left.rows} rows`,
    );
    expect(describeDatasetUse(use('source', 'qa-drop', 'train'))).toContain('dropped');
  });

  it('writes the counts into the report file', () => {
    const file = path.join(dir, 'report.json');
    const sink = new JsonReportSink(file);
    sink.begin({ config: prepared.config, suite: false, device: { device: 'cpu', reason: 'test' } as ReportFile['device'], runDir: dir, startedAt: new Date(0).toISOString(), data: prepared.data });
    sink.end({ kind: 'single', report: {} as never });
    const doc = JSON.parse(readFileSync(file, 'utf8')) as ReportFile;
    expect(doc.data).toEqual(prepared.data);
  });
});
