// The PyTorch peer of the engine benchmark as a long-lived child process (engine_peer.py), found
// with the OpenBLAS DESIGN.md prescribes; when either is missing, says what and how to get it.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface PeerSetup {
  python: string;
  openblasDir: string;
}

/** The peer's interpreter and OpenBLAS folder, or a sentence saying what is missing. */
export function findPeer(): PeerSetup | string {
  const python = process.env.PEER_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    return `PyTorch is not importable by ${python} (install Debian's python3-torch: apt-get install -y python3-torch, or set PEER_PYTHON)`;
  }
  const openblasDir = process.env.OPENBLAS_DIR ?? path.join(ROOT, '.cache', 'openblas', 'usr', 'lib', 'x86_64-linux-gnu', 'openblas-pthread');
  if (!existsSync(path.join(openblasDir, 'libblas.so.3'))) {
    return `OpenBLAS is not unpacked at ${openblasDir} (run scripts/setup-bench-peer.sh, or set OPENBLAS_DIR); Debian's reference BLAS would make the peer ~20x slower and the ratio meaningless`;
  }
  return { python, openblasDir };
}

/** Minimal safetensors writer (F32 / I32) for handing weights and batches to the peer. */
export function writeSafetensors(file: string, tensors: Record<string, { shape: readonly number[]; data: Float32Array | Int32Array }>): void {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.data instanceof Float32Array ? 'F32' : 'I32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let h = Buffer.from(JSON.stringify(header));
  h = Buffer.concat([h, Buffer.alloc((8 - (h.length % 8)) % 8, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  const parts = [len, h, ...Object.values(tensors).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
  writeFileSync(file, Buffer.concat(parts));
}

export class Peer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;

  constructor(
    setup: PeerSetup,
    readonly label: string,
    torchThreads: number,
    blasThreads: number,
  ) {
    this.proc = spawn(setup.python, [path.join(ROOT, 'tests', 'bench', 'engine_peer.py')], {
      // passive OpenMP waits, like our sessions' spinning off: spinning threads on a shared 2-core
      // machine make the peer's 2-thread steps several times slower than its 1-thread ones
      env: {
        ...process.env, LD_LIBRARY_PATH: setup.openblasDir, OPENBLAS_NUM_THREADS: String(blasThreads),
        PEER_THREADS: String(torchThreads), OMP_NUM_THREADS: String(torchThreads), OMP_WAIT_POLICY: 'PASSIVE',
      },
    });
    this.proc.stderr.on('data', (d: Buffer) => process.stderr.write(`[peer ${label}] ${d.toString()}`));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  private async reply(): Promise<Record<string, unknown>> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`the PyTorch peer (${this.label}) exited`);
    return JSON.parse(value as string) as Record<string, unknown>;
  }

  async ready(): Promise<Record<string, unknown>> {
    return this.reply();
  }

  async request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.proc.stdin.write(`${JSON.stringify(msg)}\n`);
    return this.reply();
  }

  close(): void {
    this.proc.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
  }
}
