// Shared setup for the service tests: a real core (store, data registry, engine) in a temp data
// directory, with a resources folder holding the real bundled corpora and, when asked, a tiny
// random-init model as a bundled model.
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { createCore, type Core, type CoreOptions } from '../../../src/main/bootstrap';
import { resourcesDir } from '../../../src/main/paths';
import type { Result } from '../../../src/shared/rpc';
import { tempDir } from '../../helpers/temp';
import { writeTinyModel } from '../runner/tiny-fixtures';

export interface TestCore extends Core {
  root: string;
  resources: string;
  /** Calls a contract method; throws with the error's message when it fails. */
  call<T = unknown>(name: string, input?: unknown): Promise<T>;
  /** Calls a contract method expecting a failure; returns the error. */
  fail(name: string, input?: unknown): Promise<{ name: string; message: string }>;
}

/** A resources folder: the real corpora (linked), and a tiny bundled model when `model` is given. */
export function testResources(root: string, model?: string): string {
  const res = path.join(root, 'resources');
  mkdirSync(path.join(res, 'models'), { recursive: true });
  symlinkSync(path.join(resourcesDir(), 'corpora'), path.join(res, 'corpora'));
  if (model) writeTinyModel(path.join(res, 'models', model));
  return res;
}

export function testCore(options: { model?: string; core?: Partial<CoreOptions> } = {}): TestCore {
  const root = tempDir('dynamics-services-');
  const resources = testResources(root, options.model);
  const core = createCore({ dataDir: path.join(root, 'data'), resourcesDir: resources, ...options.core });
  const call = async <T>(name: string, input?: unknown): Promise<T> => {
    const r = (await core.dispatch(name, structuredClone(input))) as Result<T>;
    if (!r.ok) throw new Error(`${name} failed: ${r.error.name}: ${r.error.message}`);
    return r.value;
  };
  const fail = async (name: string, input?: unknown) => {
    const r = await core.dispatch(name, structuredClone(input));
    if (r.ok) throw new Error(`${name} was expected to fail, and returned ${JSON.stringify(r.value).slice(0, 200)}`);
    return r.error;
  };
  return Object.assign(core, { root, resources, call, fail });
}
