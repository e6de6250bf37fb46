#!/usr/bin/env bash
# The engine's CUDA path, checked on a machine with an NVIDIA GPU, in under 10 minutes:
#   1. the driver (nvidia-smi),
#   2. ONNX Runtime's CUDA execution provider, installed by `npm run setup:cuda` from what is
#      reachable (or already installed), and whether it loads (the reason in words when not),
#   3. the parity tests on CUDA, TF32 off: float32 against the float64 fixtures
#      (tests/main/engine/device-parity.test.ts) and bf16 compute against float32 for every
#      architecture (tests/main/engine/half-compute.test.ts),
#   4. `npm run bench:engine` on CUDA (no PyTorch peer, no RSS section),
#   5. a LoRA train step at Qwen2.5-0.5B's shapes with bf16 weights and compute, batch 1 × 512 (the models
#      benchmark's child): tokens/s and the GPU's peak memory (nvidia-smi, sampled), beside
#      PyTorch on the same device when the machine's python3 has a CUDA PyTorch.
# Prints one JSON line: {"check":"gpu","ok":…,"gpu":…,"cuda":…,"parity":{…},"bench":{…}|null,
# "lora":{…}|null,"problems":[…],"seconds":…}. Exit status 0 only when everything passed.
# GPU_CHECK_DRY_RUN=1 skips steps 1-2 and runs 3-4 on the CPU: the plumbing, on any machine.
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PROBLEMS="$WORK/problems"
: > "$PROBLEMS"
problem() { printf '%s\n' "$1" >> "$PROBLEMS"; echo "gpu-check: $1" >&2; }

emit() {
  GPU="${GPU:-}" CUDA_DETAIL="${CUDA_DETAIL:-}" PARITY_LOG="$WORK/parity.log" BENCH_LOG="$WORK/bench.log" LORA_LOG="$WORK/lora.log" \
    PEER_LOG="$WORK/peer.log" GPU_MEM="$WORK/gpu-mem" PROBLEMS="$PROBLEMS" START="$START" node -e '
    const fs = require("node:fs");
    const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "");
    const problems = read(process.env.PROBLEMS).split("\n").filter(Boolean);
    const plog = read(process.env.PARITY_LOG).replace(/\x1b\[[0-9;]*m/g, "");
    const num = (re) => { const m = re.exec(plog); return m ? Number(m[1]) : 0; };
    const parity = plog ? { passed: num(/Tests\s+(?:\d+ failed \| )?(\d+) passed/), failed: num(/Tests\s+(\d+) failed/) } : null;
    const last = read(process.env.BENCH_LOG).trim().split("\n").filter((l) => l.startsWith("{\"bench\"")).pop();
    const bench = last ? JSON.parse(last) : null;
    const json = (f) => { const l = read(f).trim().split("\n").filter((x) => x.startsWith("{")).pop(); return l ? JSON.parse(l) : null; };
    const tokensPerS = (r) => (r && r.step_ms ? Math.round((r.batch * r.seq) / (r.step_ms.reduce((a, b) => a + b, 0) / r.step_ms.length / 1000)) : null);
    const ours = json(process.env.LORA_LOG);
    const peer = json(process.env.PEER_LOG);
    const mem = read(process.env.GPU_MEM).split("\n").map(Number).filter((x) => x > 0);
    const lora = ours ? { model: "Qwen2.5-0.5B shapes, bf16", batch: ours.batch, seq: ours.seq, device: ours.device, tokens_per_s: tokensPerS(ours), peak_gpu_mb: mem.length ? Math.max(...mem) : null,
      half_compute: ours.half_compute, recompute: ours.recompute, peer: peer ? { tokens_per_s: tokensPerS(peer), peak_gpu_mb: peer.peak_gpu_mb } : read(process.env.PEER_LOG).trim().split("\n").pop() || null } : null;
    const ok = problems.length === 0 && parity !== null && parity.failed === 0 && parity.passed > 0 && bench !== null && lora !== null;
    console.log(JSON.stringify({ check: "gpu", ok, gpu: process.env.GPU || null, cuda: process.env.CUDA_DETAIL || null, parity, bench, lora, problems,
      seconds: Math.round(Date.now() / 1000 - Number(process.env.START)) }));
    process.exit(ok ? 0 : 1);
  '
  exit $?
}

DEVICE=cuda
CONFIGS=small,medium,large
if [ "${GPU_CHECK_DRY_RUN:-}" = 1 ]; then
  DEVICE=cpu
  CONFIGS=small
  GPU="dry run: no GPU asked for"
  CUDA_DETAIL="dry run: the CUDA provider was not probed"
fi

# 1. the driver
if [ "$DEVICE" = cpu ]; then
  :
elif ! command -v nvidia-smi > /dev/null; then
  problem "no NVIDIA driver: nvidia-smi is not on the PATH"
  emit
fi
if [ "$DEVICE" = cuda ]; then
  GPU=$(timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)
fi
echo "gpu-check: $GPU" >&2

# 2. the CUDA execution provider
if [ "$DEVICE" = cpu ]; then
  :
elif ! timeout 180 npm run --silent setup:cuda > "$WORK/setup.log" 2>&1; then
  problem "npm run setup:cuda failed: $(tail -1 "$WORK/setup.log")"
fi
if [ "$DEVICE" = cuda ]; then
PROBE=$(timeout 60 node --import tsx -e "import('./src/main/engine/runtime/ort.ts').then(async (m) => { const p = (await m.probeExecutionProviders()).find((x) => x.name === 'cuda'); process.stdout.write(JSON.stringify(p)); })" 2> "$WORK/probe.err")
CUDA_DETAIL=$(node -e 'try { const p = JSON.parse(process.argv[1]); process.stdout.write(p.detail) } catch { process.stdout.write("the probe failed") }' "$PROBE")
if ! node -e 'process.exit(JSON.parse(process.argv[1]).usable ? 0 : 1)' "$PROBE" 2> /dev/null; then
  problem "CUDA is not usable: $CUDA_DETAIL $(tail -1 "$WORK/probe.err")"
  emit
fi
fi

# 3. parity on the device; TF32 off so float32 matmuls keep float32 precision
DYNAMICS_ENGINE_DEVICE=$DEVICE NVIDIA_TF32_OVERRIDE=0 timeout 180 npx vitest run tests/main/engine/device-parity.test.ts tests/main/engine/half-compute.test.ts > "$WORK/parity.log" 2>&1 \
  || problem "parity tests on CUDA failed or timed out (see the vitest output above)"
tail -25 "$WORK/parity.log" >&2

# 4. the benchmark on the device
BENCH_DEVICE=$DEVICE BENCH_CONFIGS=$CONFIGS BENCH_PEER=off BENCH_RSS=off BENCH_THREADS=1 BENCH_ROUNDS=3 timeout 240 npm run --silent bench:engine > "$WORK/bench.log" 2>&1 \
  || problem "bench:engine on CUDA failed or timed out: $(tail -1 "$WORK/bench.log")"
grep -v '^{"bench"' "$WORK/bench.log" | tail -12 >&2

# 5. a LoRA step at Qwen2.5-0.5B's shapes in bf16, its peak GPU memory sampled by nvidia-smi
MODEL="$WORK/qwen2.5-0.5b"
if ! timeout 120 node --import tsx tests/bench/models-ours.ts write "$MODEL" 0.5b > "$WORK/write.log" 2>&1; then
  problem "writing the 0.5B-shaped model failed: $(tail -1 "$WORK/write.log")"
else
  if [ "$DEVICE" = cuda ]; then
    ( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1 >> "$WORK/gpu-mem"; sleep 0.5; done ) &
    SAMPLER=$!
  fi
  BENCH_DEVICE=$DEVICE timeout 240 node --import tsx tests/bench/models-ours.ts train "$MODEL" "$WORK/graphs" 1 512 3 > "$WORK/lora.log" 2>&1 \
    || problem "the LoRA step at 0.5B shapes on $DEVICE failed: $(tail -1 "$WORK/lora.log")"
  [ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2> /dev/null
  if [ "$DEVICE" = cuda ] && python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2> /dev/null; then
    PEER_DEVICE=cuda timeout 120 python3 tests/bench/models_peer.py "$MODEL" 1 512 3 > "$WORK/peer.log" 2>&1 || true
  else
    echo "no CUDA PyTorch on this machine" > "$WORK/peer.log"
  fi
fi
emit
