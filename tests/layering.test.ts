// The layering rules of DESIGN.md are checked by ESLint; this test proves each rule bites.
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');
const eslint = new ESLint({ cwd: root });

async function importErrors(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering', () => {
  it.each([
    ['src/main/engine/x.ts', "import 'electron';"],
    ['src/main/store/x.ts', "import { app } from 'electron';"],
    ['src/main/runner/x.ts', "import { ref } from 'vue';"],
    ['src/main/data/x.ts', "import * as ort from 'onnxruntime-node';"],
    ['src/shared/x.ts', "import fs from 'node:fs';"],
    ['src/shared/x.ts', "import '../main/paths';"],
    ['src/renderer/src/x.ts', "import fs from 'node:fs';"],
    ['src/renderer/src/x.ts', "import { createCore } from '../../main/bootstrap';"],
    ['src/renderer/src/x.ts', "import { ipcRenderer } from 'electron';"],
    ['src/preload/x.ts', "import { z } from 'zod';"],
  ])('%s may not %s', async (file, source) => {
    expect(await importErrors(file, source)).not.toEqual([]);
  });

  it.each([
    ['src/main/app/x.ts', "import { app } from 'electron';"],
    ['src/preload/x.ts', "import { contextBridge } from 'electron';"],
    ['src/main/engine/runtime/x.ts', "import * as ort from 'onnxruntime-node';"],
    ['src/renderer/src/x.ts', "import type { SystemInfo } from '../../shared/services/system';"],
    ['src/main/store/x.ts', "import fs from 'node:fs';"],
  ])('%s may %s', async (file, source) => {
    expect(await importErrors(file, source)).toEqual([]);
  });
});
