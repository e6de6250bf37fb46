import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, buildClient, lookupMethod, method, methodNames, unwrap } from '../../src/shared/rpc';

const contract = {
  greet: {
    hello: method(z.object({ name: z.string() })).returns<string>(),
    ping: method(z.undefined()).returns<'pong'>(),
  },
};

describe('rpc', () => {
  it('lists wire names of every method', () => {
    expect(methodNames(contract)).toEqual(['greet.hello', 'greet.ping']);
  });

  it('looks up methods and refuses inherited or malformed names', () => {
    expect(lookupMethod(contract, 'greet.hello')?.method).toBe('hello');
    for (const bad of ['greet', '.hello', 'greet.', '__proto__.x', 'greet.constructor', 'greet.toString', 'nope.hello']) {
      expect(lookupMethod(contract, bad), bad).toBeUndefined();
    }
  });

  it('builds a client that routes calls by wire name', async () => {
    const calls: [string, unknown][] = [];
    const client = buildClient(contract, async (name, input) => {
      calls.push([name, input]);
      return name === 'greet.ping' ? 'pong' : `hi ${(input as { name: string }).name}`;
    });
    expect(await client.greet.hello({ name: 'ada' })).toBe('hi ada');
    expect(await client.greet.ping()).toBe('pong');
    expect(calls).toEqual([['greet.hello', { name: 'ada' }], ['greet.ping', undefined]]);
  });

  it('unwraps results and turns errors into ApiError with name and message', () => {
    expect(unwrap({ ok: true, value: 3 })).toBe(3);
    const err = (() => {
      try {
        unwrap({ ok: false, error: { name: 'NotFound', message: 'run 9 does not exist' } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ name: 'NotFound', message: 'run 9 does not exist' });
  });
});
