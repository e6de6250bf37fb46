// Checkpoint files on a real disk: round trip, hash verification against the store's record,
// truncated / edited / foreign / newer-format files refused in words, stray temp files swept, and
// the newest loadable checkpoint chosen past a damaged one.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT_VERSION, parseCheckpoint, readCheckpointFile, removeStrayCheckpointFiles, writeCheckpointFile,
} from '../../../src/main/store/checkpoint-files';
import { CheckpointFiles } from '../../../src/main/store/checkpoints';
import { CheckpointDamagedError, StoreError } from '../../../src/main/store/errors';
import { tempDir } from '../../helpers/temp';
import { createRun, openStore } from './helpers';

const dir = tempDir('dynamics-store-ckpt-');
let n = 0;
const freshDir = () => {
  const d = path.join(dir, `case-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
};

const header = (step: number) => ({ runId: 1, step, createdAt: 123, meta: { tensors: [{ name: 'lora_A', offset: 0, length: 16 }] } });

describe('checkpoint files', () => {
  it('round-trips the header and a payload given in parts, with the hash of the whole file', () => {
    const file = path.join(freshDir(), 'step-1.ckpt');
    const parts = [new Uint8Array([1, 2, 3]), Buffer.from(new Float32Array([0.5, -2]).buffer)];
    const written = writeCheckpointFile(file, { header: header(1), payload: parts });
    expect(written.bytes).toBe(readFileSync(file).length);
    expect(written.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    const loaded = readCheckpointFile(file, written);
    expect(loaded.formatVersion).toBe(CHECKPOINT_FORMAT_VERSION);
    expect(loaded.header).toEqual(header(1));
    expect([...loaded.payload]).toEqual([1, 2, 3, ...Buffer.from(new Float32Array([0.5, -2]).buffer)]);
    expect(readdirSync(path.dirname(file))).toEqual(['step-1.ckpt']); // no temp file left behind
  });

  it('refuses a truncated file, an edited byte and a missing file, naming the file', () => {
    const file = path.join(freshDir(), 'step-2.ckpt');
    const written = writeCheckpointFile(file, { header: header(2), payload: Buffer.alloc(1000, 7) });
    const bytes = readFileSync(file);
    bytes[bytes.length - 10]! ^= 0xff;
    writeFileSync(file, bytes);
    expect(() => readCheckpointFile(file, written)).toThrow(/contents do not match the hash recorded when it was saved/);
    truncateSync(file, 500);
    expect(() => readCheckpointFile(file, written)).toThrow(new RegExp(`${path.basename(file)} cannot be used: it is 500 bytes long, but \\d+ were written`));
    expect(() => readCheckpointFile(file + '.gone', written)).toThrow(/the file is missing/);
  });

  it('parses defensively: wrong magic, newer format, oversized header, inconsistent lengths, bad JSON', () => {
    const file = path.join(freshDir(), 'x.ckpt');
    writeCheckpointFile(file, { header: header(3), payload: Buffer.alloc(8) });
    const good = readFileSync(file);
    const variant = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(good);
      edit(b);
      return () => parseCheckpoint('x.ckpt', b);
    };
    expect(variant((b) => b.write('NOTACKPT', 0, 'latin1'))).toThrow(/not a DynaMiCS checkpoint/);
    expect(variant((b) => b.writeUInt32LE(CHECKPOINT_FORMAT_VERSION + 1, 8))).toThrow(/newer than this version of the app reads/);
    expect(variant((b) => b.writeUInt32LE(0x7fffffff, 12))).toThrow(/header claims \d+ bytes/);
    expect(variant((b) => b.writeBigUInt64LE(1n << 40n, 16))).toThrow(/lengths add up to/);
    expect(variant((b) => b.write('}', 24, 'latin1'))).toThrow(/header is not valid JSON/);
    expect(() => parseCheckpoint('x.ckpt', Buffer.alloc(5))).toThrow(CheckpointDamagedError);
    expect(() => writeCheckpointFile(file, { header: { ...header(4), meta: 'x'.repeat(2 << 20) }, payload: Buffer.alloc(0) })).toThrow(/header is \d+ bytes/);
  });

  it('replaces an older file at the same name atomically', () => {
    const file = path.join(freshDir(), 'step-5.ckpt');
    writeCheckpointFile(file, { header: header(5), payload: Buffer.alloc(10, 1) });
    const second = writeCheckpointFile(file, { header: header(5), payload: Buffer.alloc(20, 2) });
    expect(readCheckpointFile(file, second).payload).toEqual(Buffer.alloc(20, 2));
  });

  it('sweeps temp files and files the store does not list, and nothing else', () => {
    const d = freshDir();
    for (const name of ['step-1.ckpt', 'step-2.ckpt', '.step-3.ckpt.123.abcd.tmp', 'notes.txt']) writeFileSync(path.join(d, name), 'x');
    expect(removeStrayCheckpointFiles(d, new Set(['step-1.ckpt'])).sort()).toEqual(['.step-3.ckpt.123.abcd.tmp', 'step-2.ckpt']);
    expect(readdirSync(d).sort()).toEqual(['notes.txt', 'step-1.ckpt']);
    expect(removeStrayCheckpointFiles(path.join(d, 'none'), new Set())).toEqual([]);
  });
});

describe('CheckpointFiles with the store', () => {
  it('saves (row begun, file renamed, row completed) and loads a verified checkpoint', () => {
    const root = freshDir();
    const store = openStore(path.join(root, 'db.sqlite'));
    const files = new CheckpointFiles(path.join(root, 'runs'));
    const runId = createRun(store);
    const writer = store.writerFor(runId);
    writer.metrics.record(64, { tokens: 64, wallMs: 64 }, [{ kind: 'train_loss', value: 1 }]);
    const saved = files.save(writer, { step: 64, meta: { n: 1 }, payload: Buffer.from('params'), state: { sampler: 64 }, feasible: true, losses: { code: 1.5 } });
    expect(writer.metrics.pending).toBe(0); // flushed before the checkpoint became complete
    const [record] = store.reader.checkpoints(runId);
    expect(record).toMatchObject({ step: 64, path: `${runId}/checkpoints/step-00000064.ckpt`, sha256: saved.sha256, feasible: true, losses: { code: 1.5 } });
    const loaded = files.load(record!);
    expect(loaded.payload.toString()).toBe('params');
    expect(loaded.header).toMatchObject({ runId, step: 64, meta: { n: 1 } });
    expect(store.reader.checkpointState(runId, 64)).toEqual({ sampler: 64 });
  });

  it('picks the newest checkpoint that verifies, reporting the damaged one it skipped', () => {
    const root = freshDir();
    const store = openStore(path.join(root, 'db.sqlite'));
    const files = new CheckpointFiles(path.join(root, 'runs'));
    const runId = createRun(store);
    const writer = store.writerFor(runId);
    for (const step of [8, 16]) files.save(writer, { step, meta: null, payload: Buffer.alloc(100, step), state: { step } });
    const newest = files.absolute(store.reader.checkpoints(runId)[1]!.path);
    const bytes = readFileSync(newest);
    bytes[50]! ^= 1;
    writeFileSync(newest, bytes);
    const found = files.latestLoadable(store.reader, runId);
    expect(found?.record.step).toBe(8);
    expect(found?.skipped).toEqual([{ step: 16, reason: expect.stringMatching(/do not match the hash/) as unknown as string }]);
  });

  it('refuses a stored path that leaves the runs folder', () => {
    const files = new CheckpointFiles(freshDir());
    expect(() => files.absolute('../../etc/passwd')).toThrow(StoreError);
  });

  it('removes the files of dropped rows and sweeps a crashed save', () => {
    const root = freshDir();
    const store = openStore(path.join(root, 'db.sqlite'));
    const files = new CheckpointFiles(path.join(root, 'runs'));
    const runId = createRun(store);
    store.runs.start(runId, { device: 'cpu', reason: 'test' });
    const writer = store.writerFor(runId);
    for (const step of [8, 16, 24]) files.save(writer, { step, meta: null, payload: Buffer.alloc(10), state: { step } });
    writeFileSync(path.join(files.folder(runId), '.step-00000032.ckpt.999.dead.tmp'), 'half');
    store.runs.setStatus(runId, 'interrupted', 'killed');
    const point = store.runs.resumeFrom(runId, 8);
    files.remove(point.removedCheckpointPaths);
    expect(files.sweep(store.reader, runId)).toEqual(['.step-00000032.ckpt.999.dead.tmp']);
    expect(readdirSync(files.folder(runId))).toEqual(['step-00000008.ckpt']);
    expect(existsSync(files.absolute(point.checkpoint!.path))).toBe(true);
  });
});
