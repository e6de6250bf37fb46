// Reading a small user file whole: refused with a sentence when missing, not a file, or too big.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCappedText } from '../../src/main/capped-file';
import { UserError } from '../../src/shared/errors';
import { tempDir } from '../helpers/temp';

const dir = tempDir('capped-file-');

function refusal(file: string, max = 16): string {
  try {
    readCappedText(file, max, 'a test file');
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('readCappedText', () => {
  it('reads a file up to its cap, and refuses one a byte longer', () => {
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'x'.repeat(16));
    expect(readCappedText(file, 16, 'a test file')).toBe('x'.repeat(16));
    writeFileSync(file, 'x'.repeat(17));
    expect(refusal(file)).toBe(`${file} is 17 bytes; a test file may be at most 16 bytes`);
  });

  it('says when the path is missing or a folder', () => {
    expect(refusal(path.join(dir, 'nope'))).toBe(`cannot read ${path.join(dir, 'nope')}: no such file`);
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    expect(refusal(sub)).toBe(`cannot read ${sub}: it is not a regular file`);
  });
});
