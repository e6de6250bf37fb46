// Where a trainer's checkpoints go. The trainer hands over small JSON (layout, counters, stream
// positions) and a binary payload (parameters, optimizer moments) and gets back a CheckpointRef,
// plain data the loop keeps in its state. FolderCheckpointStorage writes one file per checkpoint
// with the store's atomic writer (temp name, fsync, rename, folder fsync) and puts the file's hash
// and size in the ref, so a load verifies it and a damaged file is never taken for a checkpoint.
// The run store can offer its own implementation (recording the rows in SQLite) later.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CHECKPOINT_EXTENSION, readCheckpointFile, writeCheckpointFile } from '../store/checkpoint-files';
import type { CheckpointRef } from './trainer';

export interface CheckpointContent {
  /** Small JSON (at most about 1 MiB once serialized). */
  meta: unknown;
  /** Written back to back. */
  payload: readonly Uint8Array[];
}

export interface CheckpointStorage {
  save(step: number, content: CheckpointContent): Promise<CheckpointRef>;
  /** The saved content; throws when the checkpoint is missing or damaged. */
  load(ref: CheckpointRef): Promise<{ meta: unknown; payload: Uint8Array }>;
}

/** `step-00000064.ckpt#<sha256>:<bytes>`: the file name inside the folder, with what was written. */
const REF_ID = /^(step-\d{8}(?:\.r\d+)?\.ckpt)#([0-9a-f]{64}):(\d+)$/;

export class FolderCheckpointStorage implements CheckpointStorage {
  constructor(
    readonly dir: string,
    /** Recorded in each file's header (the store's run id; 0 when there is no store). */
    private readonly runId = 0,
  ) {}

  /** A name not used yet: a step can be saved twice after a backtrack, and old refs must stay valid. */
  private freshName(step: number): string {
    const base = `step-${String(step).padStart(8, '0')}`;
    let name = `${base}${CHECKPOINT_EXTENSION}`;
    for (let k = 1; existsSync(path.join(this.dir, name)); k++) name = `${base}.r${k}${CHECKPOINT_EXTENSION}`;
    return name;
  }

  async save(step: number, content: CheckpointContent): Promise<CheckpointRef> {
    const name = this.freshName(step);
    const written = writeCheckpointFile(path.join(this.dir, name), {
      header: { runId: this.runId, step, createdAt: Date.now(), meta: content.meta },
      payload: content.payload,
    });
    return { step, id: `${name}#${written.sha256}:${written.bytes}` };
  }

  async load(ref: CheckpointRef): Promise<{ meta: unknown; payload: Uint8Array }> {
    const m = REF_ID.exec(ref.id);
    if (!m) throw new Error(`checkpoint reference ${JSON.stringify(ref.id)} was not written by a checkpoint folder`);
    const loaded = readCheckpointFile(path.join(this.dir, m[1]!), { sha256: m[2]!, bytes: Number(m[3]) });
    if (loaded.header.step !== ref.step) throw new Error(`the checkpoint ${m[1]} holds step ${loaded.header.step}, not ${ref.step}`);
    return { meta: loaded.header.meta, payload: loaded.payload };
  }
}
