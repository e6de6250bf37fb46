// A contract method without a handler must fail to compile. This test compiles a small program
// against the real contract with the TypeScript compiler and reads the diagnostics.
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const virtualFile = path.join(root, 'tests', 'types', '__handlers_probe__.ts');

function compile(source: string): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (f) => (f === virtualFile ? source : readFile(f));
  host.fileExists = (f) => f === virtualFile || ts.sys.fileExists(f);
  host.getSourceFile = (f, lang, onError) =>
    f === virtualFile ? ts.createSourceFile(f, source, lang) : getSourceFile(f, lang, onError);
  const program = ts.createProgram([virtualFile], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === virtualFile)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const header = `import type { DynamicsHandlers } from '../../src/shared/contract';\n`;

describe('the contract is enforced at compile time', () => {
  it('compiles a complete handler table of a service', () => {
    expect(compile(`${header}export const h: DynamicsHandlers['system'] = { info: async () => { throw new Error('x'); } };`)).toEqual([]);
  });

  it('fails to compile when a method has no handler', () => {
    const errors = compile(`${header}export const h: DynamicsHandlers['system'] = {};`);
    expect(errors.join('\n')).toMatch(/Property 'info' is missing/);
  });

  it('fails to compile when a service has no handlers', () => {
    const errors = compile(`${header}declare const s: DynamicsHandlers['system'];\nexport const h: DynamicsHandlers = { system: s } as { system: typeof s } & Omit<DynamicsHandlers, 'system' | 'runs'>;`);
    expect(errors.join('\n')).toMatch(/Property 'runs' is missing/);
  });

  it('fails to compile when a handler returns the wrong type', () => {
    const errors = compile(`${header}export const h: DynamicsHandlers['system'] = { info: () => 42 };`);
    expect(errors.length).toBeGreaterThan(0);
  });
});
