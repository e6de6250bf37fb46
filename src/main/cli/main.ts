// Entry point of the built CLI (out/main/cli.js), started by bin/dynamics.js under plain Node.
import { main } from './index';

const io = {
  out: (text: string) => process.stdout.write(`${text}\n`),
  err: (text: string) => process.stderr.write(`${text}\n`),
  write: (text: string) => process.stdout.write(text),
  env: process.env,
  untilInterrupted: () =>
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    }),
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dynamics: internal error: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
