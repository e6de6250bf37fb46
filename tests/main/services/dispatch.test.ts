import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NotFoundError } from '../../../src/shared/errors';
import { method } from '../../../src/shared/rpc';
import { createDispatch } from '../../../src/main/services/dispatch';

const contract = {
  runs: {
    get: method(z.object({ id: z.number().int().positive() })).returns<{ id: number }>(),
    boom: method(z.undefined()).returns<void>(),
  },
};

describe('dispatch', () => {
  const internal: string[] = [];
  const dispatch = createDispatch(
    contract,
    {
      runs: {
        get: ({ id }) => {
          if (id === 404) throw new NotFoundError(`run ${id} does not exist`);
          return { id };
        },
        boom: () => {
          throw new Error('disk exploded');
        },
      },
    },
    { onInternalError: (m) => internal.push(m) },
  );

  it('calls the handler with validated input', async () => {
    expect(await dispatch('runs.get', { id: 3 })).toEqual({ ok: true, value: { id: 3 } });
  });

  it('refuses invalid input, naming the field', async () => {
    const r = await dispatch('runs.get', { id: -1 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.name).toBe('InvalidInput');
      expect(r.error.message).toMatch(/^runs\.get: .*\(field id\)$/);
    }
  });

  it('refuses unknown methods', async () => {
    expect(await dispatch('runs.delete', {})).toMatchObject({ ok: false, error: { name: 'UnknownMethod' } });
    expect(await dispatch('constructor.name', {})).toMatchObject({ ok: false, error: { name: 'UnknownMethod' } });
  });

  it('passes user errors through as data', async () => {
    expect(await dispatch('runs.get', { id: 404 })).toEqual({ ok: false, error: { name: 'NotFound', message: 'run 404 does not exist' } });
  });

  it('reports internal errors without a stack and logs them', async () => {
    const r = await dispatch('runs.boom', undefined);
    expect(r).toEqual({ ok: false, error: { name: 'InternalError', message: 'runs.boom failed: disk exploded' } });
    expect(internal).toEqual(['runs.boom']);
  });
});
