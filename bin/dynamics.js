#!/usr/bin/env node
// The `dynamics` command: starts the built CLI (out/main/cli.js) under plain Node.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../out/main/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('dynamics: the CLI is not built yet; run `npm run build` in the checkout first.\n');
  process.exit(1);
}
await import(cli.href);
