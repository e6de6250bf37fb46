// `npm run soak:resume -- [--kills N] [--config quick|short|FILE] [--threads N] [--keep]`: the
// kill -9 / resume check of tests/main/runner/kill-resume.test.ts, longer. One uninterrupted run
// of the config, then runs killed with SIGKILL at random moments (a fifth while the trainer
// starts, the rest after a random step plus a random delay), resumed each time, until N kills;
// every completed run must leave exactly what the uninterrupted one left (metric values and tokens,
// decisions, checkpoint payloads, score, report), the database must pass integrity_check, and no
// checkpoint the store offers may fail to verify. Ends with one JSON line.
//   --config quick  resources/demo/quick.json (default; bundled:demo-random is written if named and missing)
//   --config short  the tests' 12-step config on a tiny model (fast)
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadRunConfigFile } from '../src/main/runner/config-file';
import { ForkProcessLauncher } from '../src/main/runner/process-launcher';
import { RunSupervisor } from '../src/main/runner/supervisor';
import type { SupervisorEvent } from '../src/main/runner/supervisor-events';
import { resourcesDir } from '../src/main/paths';
import { CheckpointFiles } from '../src/main/store/checkpoints';
import { checkIntegrity } from '../src/main/store/database';
import { Store } from '../src/main/store/index';
import { APP_VERSION, processWorldIn, storedResult } from '../tests/main/runner/process-world';
import { DEMO_MODEL_NAME, writeDemoModel } from './demo-model';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const kills = Number(arg('--kills') ?? 40);
const which = arg('--config') ?? 'quick';
const threads = Number(arg('--threads') ?? 1);
const keep = process.argv.includes('--keep');
const random = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
const sleep = (s: number) => new Promise((r) => setTimeout(r, 1000 * s));

async function main(): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamics-soak-'));
  const t0 = performance.now();
  let configFile: string;
  if (which === 'short') {
    configFile = processWorldIn(dir).configFile;
  } else {
    configFile = path.resolve(which === 'quick' ? path.join(resourcesDir(), 'demo', 'quick.json') : which);
  }
  const config = loadRunConfigFile(configFile);
  if (config.model.path === `bundled:${DEMO_MODEL_NAME}` && !existsSync(path.join(resourcesDir(), 'models', DEMO_MODEL_NAME, 'model.safetensors'))) {
    writeDemoModel(path.join(resourcesDir(), 'models', DEMO_MODEL_NAME));
    console.log(`wrote the demo model to resources/models/${DEMO_MODEL_NAME}`);
  }
  const store = Store.open(path.join(dir, 'soak.db'), { appVersion: APP_VERSION });
  const files = new CheckpointFiles(path.join(dir, 'soak-runs'));
  const supervisor = new RunSupervisor({
    store, files, appVersion: APP_VERSION, launcher: new ForkProcessLauncher(), progressChunkSteps: 2, defaultBaseDir: path.dirname(configFile),
    engine: { graphCacheDir: path.join(dir, 'cache', 'graphs'), tokenCacheDir: path.join(dir, 'cache', 'tokens'), resourcesDir: resourcesDir(), threads },
  });
  const next = (test: (e: SupervisorEvent) => boolean) =>
    new Promise<void>((resolve) => {
      const off = supervisor.subscribe((e) => {
        if (test(e)) {
          off();
          resolve();
        }
      });
    });
  const evalSteps = Array.from({ length: Math.floor(config.training.steps / config.evaluation.interval) }, (_, k) => (k + 1) * config.evaluation.interval);
  if (evalSteps.at(-1) !== config.training.steps) evalSteps.push(config.training.steps);

  try {
    console.log(`reference run of ${configFile} (${config.training.steps} steps) in ${dir}`);
    const started = performance.now();
    const [refId] = supervisor.start(config, { baseDir: path.dirname(configFile) });
    await next((e) => e.runId === refId && e.type === 'device');
    const startup = (performance.now() - started) / 1000;
    if ((await supervisor.wait(refId!)) !== 'completed') throw new Error(`the reference run ended ${store.reader.get(refId!).status}: ${store.reader.get(refId!).statusReason}`);
    const training = (performance.now() - started) / 1000 - startup;
    const reference = storedResult(store, files, refId!, evalSteps);
    console.log(`reference: start-up ${startup.toFixed(1)} s, training ${training.toFixed(1)} s`);

    let done = 0;
    let fromCheckpoint = 0;
    let duringStartup = 0;
    let mismatches = 0;
    const runs: number[] = [];
    while (done < kills) {
      const [id] = supervisor.start(config, { baseDir: path.dirname(configFile) });
      runs.push(id!);
      for (let k = 0; k < 6 && done < kills; k++) {
        const early = Math.random() < 0.2;
        const step = Math.floor(random(0, config.training.steps + 1));
        if (!early) {
          await Promise.race([
            next((e) => e.runId === id && (e.type === 'progress' || e.type === 'train' || e.type === 'eval') && ('step' in e ? e.step : e.record.step) >= step),
            supervisor.wait(id!),
          ]);
        }
        await sleep(early ? random(0, startup) : random(0, training / 8));
        const live = supervisor.status(id!).active;
        if (!live) break;
        process.kill(live.pid!, 'SIGKILL');
        const status = await supervisor.wait(id!);
        if (status === 'completed') break;
        if (status !== 'interrupted') throw new Error(`run ${id} ended ${status} after a kill: ${store.reader.get(id!).statusReason}`);
        done++;
        if (early) duringStartup++;
        for (const c of store.reader.checkpoints(id!)) files.load(c); // every offered checkpoint verifies
        await supervisor.resume(id!);
        const how = store.reader.get(id!).statusReason ?? '';
        if (how.startsWith('resumed from the checkpoint')) fromCheckpoint++;
        console.log(`kill ${done}/${kills}: run ${id} ${how}`);
      }
      const status = await supervisor.wait(id!);
      const same = status === 'completed' && isDeepStrictEqual(storedResult(store, files, id!, evalSteps), reference);
      if (!same) {
        mismatches++;
        const got = storedResult(store, files, id!, evalSteps);
        const keys = Object.keys(reference).filter((k) => !isDeepStrictEqual((got as Record<string, unknown>)[k], (reference as Record<string, unknown>)[k]));
        console.log(`run ${id}: ${status}; differs from the uninterrupted run in ${keys.join(', ') || 'nothing?'}`);
        for (const c of reference.curves) {
          const o = got.curves.find((x) => x.kind === c.kind && x.domain === c.domain);
          const i = c.steps.findIndex((step, k) => o?.steps[k] !== step || o.values[k] !== c.values[k] || o.tokens[k] !== c.tokens[k]);
          if (i >= 0) console.log(`  ${c.kind}/${c.domain} first differs at step ${c.steps[i]}: ${c.values[i]} (tokens ${c.tokens[i]}) vs ${o?.values[i]} (step ${o?.steps[i]}, tokens ${o?.tokens[i]})`);
        }
        reference.decisions.forEach((d, k) => {
          if (!isDeepStrictEqual(d, got.decisions[k])) console.log(`  the decision at step ${d.step} differs (${JSON.stringify(d.weights)} vs ${JSON.stringify(got.decisions[k]?.weights)})`);
        });
      } else {
        console.log(`run ${id}: completed, identical to the uninterrupted run`);
      }
    }
    checkIntegrity(store.db, store.file, 'full');
    const seconds = (performance.now() - t0) / 1000;
    console.log(JSON.stringify({ soak: 'resume', config: which, kills: done, runs: runs.length, fromCheckpoint, duringStartup, mismatches, integrity: 'ok', seconds: Math.round(seconds) }));
    return mismatches === 0 ? 0 : 1;
  } finally {
    store.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
