// The IPC sender check, against the handler itself and a real core: a call from our renderer's
// frame reaches the service; one from any other frame, or from a frame that is gone, is refused
// before the core sees it. And the packaging config flips Electron's fuses as shipped.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FORBIDDEN_IPC, ipcCallHandler, type IpcSender } from '../../../src/main/app/ipc-handler';
import { createCore } from '../../../src/main/bootstrap';
import { tempDir } from '../../helpers/temp';

const sender = (url: string | null): IpcSender => ({ senderFrame: url === null ? null : ({ url } as NonNullable<IpcSender['senderFrame']>) });

describe('the IPC sender check', () => {
  const dir = tempDir('dynamics-ipc-');
  const core = createCore({ dataDir: path.join(dir, 'data') });
  afterAll(() => core.close());
  const rendererDir = path.join(dir, 'renderer');
  const trusted = { rendererDir };
  const calls: string[] = [];
  const dispatch = (name: string, input: unknown) => {
    calls.push(name);
    return core.dispatch(name, input);
  };
  const handler = ipcCallHandler('system.info', dispatch, trusted);

  it('passes a call from our renderer to the core', async () => {
    const reply = (await handler(sender(pathToFileURL(path.join(rendererDir, 'index.html')).href + '#/runs'), undefined)) as { ok: boolean; value: { dataDir: string } };
    expect(reply.ok).toBe(true);
    expect(reply.value.dataDir).toBe(path.join(dir, 'data'));
  });

  it('refuses other frames and vanished ones before the core is called', async () => {
    calls.length = 0;
    const hostile = [
      'https://evil.example/',
      'http://localhost:5173/',
      pathToFileURL(path.join(dir, 'elsewhere.html')).href,
      pathToFileURL(`${rendererDir}-evil/index.html`).href,
      'about:blank',
      '',
      null,
    ];
    for (const url of hostile) expect(await handler(sender(url), undefined), String(url)).toEqual(FORBIDDEN_IPC);
    const disposed = { get senderFrame(): never { throw new Error('Render frame was disposed before WebFrameMain could be accessed'); } };
    expect(await handler(disposed, undefined)).toEqual(FORBIDDEN_IPC);
    expect(calls).toEqual([]);
  });
});

describe('electron-builder.yml', () => {
  const config = parse(readFileSync(path.resolve(import.meta.dirname, '../../../electron-builder.yml'), 'utf8')) as { electronFuses?: Record<string, boolean> };
  it('flips the fuses: no RunAsNode, NODE_OPTIONS or --inspect; cookie encryption, ASAR integrity, app only from ASAR', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('uses only fuse names electron-builder knows (its own configuration schema)', () => {
    const scheme = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../node_modules/app-builder-lib/scheme.json'), 'utf8')) as { definitions: Record<string, { properties?: Record<string, unknown> }> };
    const known = Object.keys(scheme.definitions.FuseOptionsV1?.properties ?? {});
    expect(known.length).toBeGreaterThan(0);
    for (const name of Object.keys(config.electronFuses ?? {})) expect(known, name).toContain(name);
  });
});
