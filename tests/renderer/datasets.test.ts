// Datasets against a real core (bundled corpora, a bundled tiny model): the list and details,
// previews as the model sees them (trained-on parts marked from the real loss mask), imports by
// path and by upload with progress, and the line-numbered report of a refused file.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventMap } from '../../src/shared/events';
import { useDatasetsStore, type LocalFile } from '../../src/renderer/src/stores/datasets';
import DatasetsView from '../../src/renderer/src/views/DatasetsView.vue';
import { tempDir } from '../helpers/temp';
import { mountView, settle, storeContext, testCore, tinyResources, until } from './setup';

const { api } = testCore({ resourcesDir: tinyResources() });
const files = tempDir('dynamics-datasets-');

const chat = (i: number) => JSON.stringify({ messages: [{ role: 'user', content: `What is ${i} + ${i}?` }, { role: 'assistant', content: `It is ${2 * i}.` }] });
function chatFile(name: string, good: number, bad: number[]): string {
  const lines: string[] = [];
  for (let i = 0; i < good; i++) lines.push(chat(i));
  for (const at of bad) lines.splice(at - 1, 0, '{"messages": [{"role": "user"');
  const file = path.join(files, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
function local(name: string, text: string): LocalFile {
  const bytes = new TextEncoder().encode(text);
  return { name, size: bytes.length, read: async (a, b) => bytes.slice(a, b) };
}

describe('datasets store', () => {
  it('lists the bundled corpora and shows one with stats and raw examples', async () => {
    const ctx = storeContext(api);
    const ds = ctx.run(() => useDatasetsStore());
    await ds.load();
    expect(ds.error).toBeNull();
    expect(ds.list.map((d) => d.id)).toEqual(expect.arrayContaining(['bundled:code', 'bundled:email']));
    await ds.select('bundled:email');
    expect(ds.details?.chars.count).toBe(ds.details?.examples);
    expect(ds.preview?.renderedWith).toBeNull();
    expect(ds.preview?.examples).toHaveLength(5);
    await ds.pagePreview(1);
    expect(ds.previewOffset).toBe(5);
    expect(ds.preview?.examples[0]?.index).toBe(5);
    await ds.pagePreview(-1);
    expect(ds.previewOffset).toBe(0);
  });

  it('imports a chat file by path with progress, skipping bad lines it reports by number', async () => {
    const ctx = storeContext(api);
    const ds = ctx.run(() => useDatasetsStore());
    const seen: EventMap['dataset.import.progress'][] = [];
    const off = api.on('dataset.import.progress', (p) => seen.push(p));
    const d = await ds.importFile({ name: 'sums', path: chatFile('sums.jsonl', 40, [7]), tokenizerModelId: 'bundled:tiny' });
    off();
    expect(ds.importError).toBeNull();
    expect(d?.id).toBe('sums');
    expect(d?.examples).toBe(40);
    expect(d?.badRecords).toBe(1);
    expect(d?.problems[0]?.line).toBe(7);
    expect(d?.tokens[0]?.lossTokens).toBeGreaterThan(0);
    expect(seen.map((p) => p.phase)).toContain('done');
    expect(new Set(seen.map((p) => p.progressId)).size).toBe(1);
    expect(ds.selectedId).toBe('sums');

    // As the model sees it: the chat template applied, only the assistant's reply trained on.
    ds.previewModelId = 'bundled:tiny';
    await ds.loadPreview();
    const ex = ds.preview!.examples[0]!;
    expect(ds.preview!.renderedWith).toContain('tiny');
    expect(ex.tokens).toBeGreaterThan(0);
    const trained = ex.segments.filter((s) => s.trained).map((s) => s.text).join('');
    const masked = ex.segments.filter((s) => !s.trained).map((s) => s.text).join('');
    expect(trained).toContain('It is 0.');
    expect(masked).toContain('What is 0 + 0?');
    expect(trained).not.toContain('What is');
  });

  it('refuses a mostly broken file with every problem and its line', async () => {
    const ctx = storeContext(api);
    const ds = ctx.run(() => useDatasetsStore());
    const d = await ds.importFile({ name: 'broken', path: chatFile('broken.jsonl', 4, [2, 3, 5]) });
    expect(d).toBeNull();
    expect(ds.importError).toMatch(/broken\.jsonl/);
    expect(ds.importReport?.usable).toBe(false);
    expect(ds.importReport?.problems.map((p) => p.line)).toEqual([2, 3, 5]);
    expect(ds.importing).toBe(false);
  });

  it('uploads a local file in chunks and imports it', async () => {
    const ctx = storeContext(api);
    const ds = ctx.run(() => useDatasetsStore());
    const text = Array.from({ length: 30 }, (_, i) => JSON.stringify({ prompt: `Q${i}`, completion: ` A${i}` })).join('\n');
    const d = await ds.importFile({ name: 'uploaded', file: local('qa.jsonl', text) });
    expect(ds.importError).toBeNull();
    expect(d?.format).toBe('completion');
    expect(d?.examples).toBe(30);
    expect(ds.list.some((x) => x.id === 'uploaded')).toBe(true);
    await ds.remove('uploaded');
    expect(ds.list.some((x) => x.id === 'uploaded')).toBe(false);
  });
});

describe('datasets view', () => {
  it('shows stats, the histogram and examples with trained-on parts highlighted', async () => {
    const { wrapper } = await mountView(DatasetsView, api);
    await settle(4);
    await until(() => wrapper.find('[data-testid="dataset-row-sums"]').exists());
    await wrapper.get('[data-testid="dataset-row-sums"]').trigger('click');
    await until(() => wrapper.find('[data-testid="dataset-histogram"] svg').exists() && wrapper.find('[data-testid="preview-example-0"]').exists());
    expect(wrapper.get('[data-testid="dataset-examples"]').text()).toBe('40');
    expect(wrapper.get('[data-testid="dataset-tokens"]').text()).toContain('trained on');
    expect(wrapper.find('[data-testid="dataset-histogram"] svg').exists()).toBe(true);
    expect(wrapper.get('[data-testid="dataset-problems"] [data-testid="problem-line-7"]').text()).toContain('7');
    await wrapper.get('[data-testid="preview-model"]').setValue('bundled:tiny');
    await until(() => wrapper.find('[data-testid="preview-example-0"] .seg-trained').exists());
    const example = wrapper.get('[data-testid="preview-example-0"]');
    expect(example.find('.seg-trained').text()).toContain('It is 0.');
    expect(example.findAll('.seg-masked').map((s) => s.text()).join('')).toContain('What is 0 + 0?');
    expect(example.find('[data-trained="true"]').exists()).toBe(true);
    wrapper.unmount();
  });

  it('shows, per usual row length, the examples longer than a row and the tokens they lose', async () => {
    const ctx = storeContext(api);
    const ds = ctx.run(() => useDatasetsStore());
    // Every fourth answer runs to a few hundred tokens.
    const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `Count to ${i}.`, completion: i % 4 === 0 ? ` ${Array.from({ length: 120 + i * 4 }, (_, k) => k).join(', ')}.` : ` ${i}.` }));
    const file = path.join(files, 'counts.jsonl');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const d = await ds.importFile({ name: 'counts', path: file, tokenizerModelId: 'bundled:tiny' });
    const overLong = d!.tokenLengths[0]!.overLong!;
    expect(overLong[0]!.seqLen).toBe(128);
    expect(overLong[0]!.examples).toBeGreaterThan(5);
    const { wrapper } = await mountView(DatasetsView, api);
    await until(() => wrapper.find('[data-testid="dataset-row-counts"]').exists());
    await wrapper.get('[data-testid="dataset-row-counts"]').trigger('click');
    await until(() => wrapper.find('[data-testid="dataset-over-long"]').exists());
    const table = wrapper.findAll('[data-testid="dataset-over-long"] tbody tr').map((tr) => tr.findAll('td').map((td) => td.text()));
    // Rows up to the first length every example fits in.
    const shown = overLong.slice(0, overLong.findIndex((r) => r.examples === 0) + 1);
    expect(table.map((r) => r[0])).toEqual(shown.map((r) => r.seqLen.toLocaleString()));
    expect(table[0]![1]).toMatch(new RegExp(`^${overLong[0]!.examples} \\(\\d+%\\)$`));
    expect(table[0]![2]).toContain(overLong[0]!.tokensCut.toLocaleString());
    expect(table.at(-1)![1]).toMatch(/^0/);
    wrapper.unmount();
  });

  it('shows the report with line numbers when an import is refused', async () => {
    const { wrapper } = await mountView(DatasetsView, api);
    await settle(3);
    await wrapper.get('[data-testid="dataset-import-path-input"]').setValue(chatFile('bad-again.jsonl', 3, [1, 2]));
    expect(wrapper.get('[data-testid="dataset-import-name"]').element).toHaveProperty('value', 'bad-again');
    await wrapper.get('[data-testid="dataset-import"]').trigger('click');
    await until(() => wrapper.find('[data-testid="dataset-import-report"]').exists());
    expect(wrapper.get('[data-testid="dataset-import-error"]').text()).toMatch(/bad-again\.jsonl/);
    const report = wrapper.get('[data-testid="dataset-import-report"]');
    expect(report.find('[data-testid="problem-line-1"]').exists()).toBe(true);
    expect(report.find('[data-testid="problem-line-2"]').exists()).toBe(true);
    wrapper.unmount();
  });
});
