// JSON as Hugging Face files use it: Python's json module writes NaN, Infinity and -Infinity as
// bare tokens (real config.json files contain them), which JSON.parse refuses. Parsing goes through
// JSON.parse (fast, for tokenizer.json's megabytes) after quoting those tokens; when the text is
// still invalid, a small scanner finds where, so the error names file:line:column (Node 20's
// JSON.parse messages carry no position).
import { InvalidInputError } from '../../../shared/errors';

const SENTINEL = '\u0000dynamics-nonfinite:';
const NON_FINITE = ['-Infinity', 'Infinity', 'NaN'] as const;

/** Replaces bare NaN / Infinity / -Infinity outside strings by sentinel strings (same line count). */
function quoteNonFinite(text: string): { text: string; replaced: number } {
  let out = '';
  let replaced = 0;
  let i = 0;
  let from = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    const token = NON_FINITE.find((t) => text.startsWith(t, i));
    if (token) {
      out += text.slice(from, i) + JSON.stringify(SENTINEL + token);
      i += token.length;
      from = i;
      replaced++;
      continue;
    }
    i++;
  }
  return { text: out + text.slice(from), replaced };
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(SENTINEL)) {
    const t = value.slice(SENTINEL.length);
    return t === 'NaN' ? NaN : t === 'Infinity' ? Infinity : -Infinity;
  }
  return value;
}

/** Where the first syntax error of `text` is, and why (accepting NaN / Infinity as numbers). */
export function locateJsonError(text: string): { pos: number; reason: string } {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (reason: string): never => {
    throw { pos: i, reason };
  };
  const expectChar = (c: string) => {
    ws();
    if (text[i] !== c) fail(i >= text.length ? `unexpected end of text, expected "${c}"` : `expected "${c}" but found ${JSON.stringify(text[i])}`);
    i++;
  };
  const str = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) fail('a control character inside a string');
      if (text[i] === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('a bad \\u escape');
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail(`a bad escape \\${e ?? ''}`);
        i += 2;
        continue;
      }
      i++;
    }
    if (i >= text.length) fail('a string that never ends');
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === undefined) fail('unexpected end of text, expected a value');
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes but found ${text[i] === undefined ? 'the end' : JSON.stringify(text[i])}`);
        str();
        expectChar(':');
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail(`expected "," or "}" but found ${text[i] === undefined ? 'the end' : JSON.stringify(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail(`expected "," or "]" but found ${text[i] === undefined ? 'the end' : JSON.stringify(text[i])}`);
      }
    }
    if (c === '"') return str();
    for (const word of ['true', 'false', 'null', ...NON_FINITE]) {
      if (text.startsWith(word, i)) return void (i += word.length);
    }
    const num = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (num) return void (i += num[0].length);
    fail(`unexpected ${JSON.stringify(c)}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the end of the value`);
  } catch (err) {
    if (err instanceof RangeError) return { pos: i, reason: 'nested too deeply' };
    return err as { pos: number; reason: string };
  }
  return { pos: text.length, reason: 'invalid JSON' };
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  return `${before.split('\n').length}:${pos - before.lastIndexOf('\n')}`;
}

/** Parses JSON text, accepting NaN, Infinity and -Infinity as numbers; errors name `where:line:col`. */
export function parseLenientJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    const q = quoteNonFinite(text);
    if (q.replaced > 0) {
      try {
        return JSON.parse(q.text, revive);
      } catch {
        // fall through to locate the error in the original text
      }
    }
    const { pos, reason } = locateJsonError(text);
    throw new InvalidInputError(`${where}:${lineCol(text, pos)} is not valid JSON (${reason})`);
  }
}

/** JSON text (indented) that writes non-finite numbers as Python's json does (NaN, Infinity, -Infinity). */
export function stringifyLenientJson(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? SENTINEL + String(v) : v), 2);
  return text.replace(/"\\u0000dynamics-nonfinite:(NaN|Infinity|-Infinity)"/g, '$1');
}
