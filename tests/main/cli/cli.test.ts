import { describe, expect, it } from 'vitest';
import { appVersion } from '../../../src/main/paths';
import { runCli } from './helpers';

const run = (argv: string[]) => runCli(argv, { home: '/nonexistent-dynamics-home', interrupts: Infinity });

describe('dynamics CLI', () => {
  it('prints its version', async () => {
    const r = await run(['--version']);
    expect(r).toMatchObject({ code: 0, out: appVersion() });
  });

  it('prints help listing the commands', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/serve\s+serve the UI/);
    expect((await run(['serve', '--help'])).out).toContain('usage: dynamics serve');
  });

  it('answers user mistakes with one sentence and a non-zero exit', async () => {
    for (const [argv, message] of [
      [['launch'], 'unknown command `launch`'],
      [['serve', '--port', 'x'], '--port must be an integer from 0 to 65535'],
      [['serve', '--bogus'], 'unknown option --bogus'],
      [['serve', '--host', '10.1.2.3'], 'pass --allow-remote'],
      [['serve', 'extra'], 'unexpected argument extra'],
    ] as const) {
      const r = await run([...argv]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(message);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
