// Entry point of a trainer process (out/main/trainer.js once built): one run per process, started
// by the supervisor with child_process.fork (CLI, serve) or Electron's utilityProcess (the app).
// It waits for the `start` message, runs the job, and exits; a crash here kills only this process.
// - fork gives `process.send`; a utility process gives `process.parentPort` — both are supported,
//   without importing electron.
// - Ctrl-C in a terminal reaches the whole process group: the parent decides what it means, so
//   SIGINT is ignored here. SIGTERM, or the parent going away, pauses at the next safe point.
import { isParentMessage, type ChildMessage, type ParentMessage, TRAINER_EXIT } from './trainer-protocol';
import { runTrainerJob } from './trainer-job';

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

interface Channel {
  send(message: ChildMessage): void;
  /** Resolves once every message sent so far has been handed to the parent. */
  drain(): Promise<void>;
}

function openChannel(onMessage: (m: ParentMessage) => void, onGone: () => void): Channel {
  const accept = (value: unknown) => {
    if (isParentMessage(value)) onMessage(value);
  };
  const port = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (port) {
    port.on('message', (e) => accept(e.data));
    return { send: (m) => port.postMessage(m), drain: () => Promise.resolve() };
  }
  if (!process.send) {
    process.stderr.write('the trainer process must be started by the run supervisor (it has no parent channel)\n');
    process.exit(2);
  }
  process.on('message', accept);
  process.on('disconnect', onGone);
  let last: Promise<void> = Promise.resolve();
  return {
    send: (m) => {
      if (!process.connected) return;
      last = new Promise<void>((resolve) => {
        try {
          process.send!(m, undefined, undefined, () => resolve());
        } catch {
          resolve(); // the parent went away; it reads the outcome from the store
        }
      });
    },
    drain: () => last,
  };
}

const pause = new AbortController();
const cancel = new AbortController();
let started = false;

process.on('SIGINT', () => {});
process.on('SIGTERM', () => pause.abort());

const channel = openChannel(
  (message) => {
    if (message.type === 'pause') pause.abort();
    else if (message.type === 'cancel') cancel.abort();
    else if (!started) {
      started = true;
      void runTrainerJob(message.job, { send: (m) => channel.send(m), pauseSignal: pause.signal, cancelSignal: cancel.signal }).then(
        async (code) => {
          await channel.drain();
          process.exit(code);
        },
        async (err: unknown) => {
          process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
          await channel.drain();
          process.exit(TRAINER_EXIT.error);
        },
      );
    }
  },
  () => {
    // The supervisor is gone: save what can be saved and stop.
    pause.abort();
    if (!started) process.exit(TRAINER_EXIT.done);
  },
);
