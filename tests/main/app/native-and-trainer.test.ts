// The desktop app's pieces that run without Electron: where the Electron build of better-sqlite3
// is found, and the utility-process trainer adapter, driven here by a real child process through
// `forkedUtilityChild`, a test double of Electron's UtilityProcess built on child_process.fork.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSqliteBinding, sqliteBindingCandidates } from '../../../src/main/app/native';
import { UtilityProcessTrainer, type UtilityChild } from '../../../src/main/app/utility-trainer';
import type { ProcessExit } from '../../../src/main/runner/process-launcher';
import { tempDir } from '../../helpers/temp';

describe('the Electron build of better-sqlite3', () => {
  const where = { resourcesPath: '/opt/app/resources', packaged: true, appRoot: '/opt/app/resources/app.asar' };

  it('is looked for in resources/native when packaged, in .electron-native in a checkout', () => {
    expect(sqliteBindingCandidates(where)[0]).toBe(path.join('/opt/app/resources', 'native', 'better_sqlite3.node'));
    const dev = { resourcesPath: undefined, packaged: false, appRoot: '/src/dynamics' };
    expect(sqliteBindingCandidates(dev)).toEqual([path.join('/src/dynamics', '.electron-native', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')]);
    expect(findSqliteBinding(dev, () => true)).toEqual({ path: sqliteBindingCandidates(dev)[0] });
  });

  it('says what to do when it is missing', () => {
    expect(findSqliteBinding({ ...where, packaged: false }, () => false)).toEqual({ problem: expect.stringMatching(/npm run setup:electron.*dynamics serve/) });
    expect(findSqliteBinding(where, () => false)).toEqual({ problem: expect.stringMatching(/reinstall DynaMiCS Studio/) });
  });
});

/** A test double of Electron's UtilityProcess: a forked Node child behind the same small surface. */
function forkedUtilityChild(script: string): UtilityChild {
  const child = fork(script, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const events = new EventEmitter();
  child.on('message', (m) => events.emit('message', m));
  child.on('exit', (code, signal) => events.emit('exit', code ?? (signal ? 128 + 9 : 0)));
  return {
    pid: child.pid,
    stdout: child.stdout,
    stderr: child.stderr,
    postMessage: (m) => child.send(m as object),
    on: (event: string, listener: (...args: unknown[]) => void) => events.on(event, listener),
    kill: () => child.kill(),
  } as UtilityChild;
}

describe('UtilityProcessTrainer', () => {
  const dir = tempDir();
  const script = path.join(dir, 'child.cjs');
  writeFileSync(
    script,
    `process.on('message', (m) => {
       if (m.type === 'start') { process.send({ type: 'preparing', message: 'job ' + m.job.runId + ' ' + m.job.sqliteNativeBinding }); return; }
       process.stderr.write('last words: bye\\n');
       setTimeout(() => process.exit(3), 50);
     });`,
  );

  it('carries messages both ways (the job with the Electron sqlite build), reads the output, and reports the exit after the last words', async () => {
    const trainer = new UtilityProcessTrainer(forkedUtilityChild(script), '/app/native/better_sqlite3.node');
    const messages: unknown[] = [];
    let output = '';
    trainer.onMessage((m) => messages.push(m));
    trainer.onOutput((t) => (output += t));
    const exit = new Promise<ProcessExit>((resolve) => trainer.onExit(resolve));
    trainer.send({ type: 'start', job: { runId: 7 } as never });
    await expect.poll(() => messages.length, { timeout: 10_000 }).toBe(1);
    expect(messages[0]).toEqual({ type: 'preparing', message: 'job 7 /app/native/better_sqlite3.node' });
    trainer.send({ type: 'cancel' });
    expect(await exit).toEqual({ code: 3, signal: null });
    expect(output).toContain('last words: bye');
    trainer.send({ type: 'pause' });
    let late: ProcessExit | null = null;
    trainer.onExit((e) => (late = e));
    expect(late).toEqual({ code: 3, signal: null });
  });

  it('can be killed', async () => {
    const trainer = new UtilityProcessTrainer(forkedUtilityChild(script));
    trainer.onOutput(() => {});
    const exit = new Promise<ProcessExit>((resolve) => trainer.onExit(resolve));
    trainer.kill();
    expect((await exit).code).not.toBe(0);
  });
});
