// Properties of the committed corpora that the demo and the scenario benchmark rely on: every
// domain has the three splits, eval and test hold at least 50 KB of text (so constraint effects
// rise above noise), no document is in two splits, the email domain carries no address or
// routing header, and every arithmetic line is correct.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allDomains } from '../../../scripts/corpora/pipeline';
import { SPLITS, type SplitName } from '../../../scripts/corpora/split';

const corpora = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'resources', 'corpora');

interface Line {
  id: string;
  text: string;
}

function readSplit(domain: string, split: SplitName): Line[] {
  return readFileSync(path.join(corpora, domain, `${split}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l, i) => {
      const v = JSON.parse(l) as Record<string, unknown>;
      if (typeof v.id !== 'string' || typeof v.text !== 'string') throw new Error(`${domain}/${split}.jsonl:${i + 1}: id and text must be strings`);
      return { id: v.id, text: v.text };
    });
}

/** A tiny evaluator for the arithmetic lines: integers, + - * /, parentheses, usual precedence. */
function evaluate(expr: string): number {
  const tokens = expr.match(/\d+|[-+*/()]/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const atom = (): number => {
    const t = tokens[i++];
    if (t === '(') {
      const v = sum();
      if (tokens[i++] !== ')') throw new Error(`unbalanced: ${expr}`);
      return v;
    }
    if (t === undefined || !/^\d+$/.test(t)) throw new Error(`unexpected ${t ?? 'end'} in ${expr}`);
    return Number(t);
  };
  const product = (): number => {
    let v = atom();
    while (peek() === '*' || peek() === '/') {
      const op = tokens[i++];
      const r = atom();
      if (op === '/') {
        if (r === 0 || v % r !== 0) throw new Error(`inexact division in ${expr}`);
        v = v / r;
      } else v = v * r;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i !== tokens.length) throw new Error(`trailing input in ${expr}`);
  return v;
}

describe('bundled corpora', () => {
  for (const { name } of allDomains()) {
    describe(name, () => {
      const splits = Object.fromEntries(SPLITS.map((s) => [s, readSplit(name, s)])) as Record<SplitName, Line[]>;

      it('has eval and test splits of at least 50 KB of text and a non-empty train split', () => {
        const bytes = (s: SplitName): number => splits[s].reduce((n, d) => n + Buffer.byteLength(d.text, 'utf8'), 0);
        expect(bytes('eval')).toBeGreaterThanOrEqual(50_000);
        expect(bytes('test')).toBeGreaterThanOrEqual(50_000);
        expect(bytes('train')).toBeGreaterThanOrEqual(300_000);
      });

      it('never has a document, or a document id, in two splits or twice in one', () => {
        const texts = new Map<string, SplitName>();
        const ids = new Set<string>();
        for (const s of SPLITS) {
          for (const d of splits[s]) {
            const seen = texts.get(d.text);
            expect(seen, `${d.id} in ${s} repeats a document of ${seen ?? ''}`).toBeUndefined();
            texts.set(d.text, s);
            expect(ids.has(d.id), d.id).toBe(false);
            ids.add(d.id);
          }
        }
      });

      it('has normalized, non-trivial documents', () => {
        for (const s of SPLITS) {
          for (const d of splits[s]) {
            expect(d.text.length, d.id).toBeGreaterThanOrEqual(100);
            expect(d.text, d.id).toBe(d.text.trim());
            expect(/\r|[ \t]\n|\n\n\n/.test(d.text), `${d.id} has unnormalized whitespace`).toBe(false);
          }
        }
      });
    });
  }

  it('email bodies carry no address and no routing or identity header', () => {
    for (const s of SPLITS) {
      for (const d of readSplit('email', s)) {
        expect(d.text, d.id).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]/);
        expect(d.text, d.id).not.toMatch(/^[\s>|]*(From|To|Cc|Reply-To|Return-Path|Received|Message-ID|Delivered-To)\s*:/im);
      }
    }
  });

  it('every arithmetic line is a correct equation', () => {
    let lines = 0;
    for (const s of SPLITS) {
      for (const d of readSplit('arithmetic', s)) {
        for (const line of d.text.split('\n')) {
          const [lhs, rhs, extra] = line.split(' = ');
          expect(extra, line).toBeUndefined();
          expect(evaluate(lhs ?? '') + 0, line).toBe(Number(rhs)); // + 0 turns -0 into 0
          lines++;
        }
      }
    }
    expect(lines).toBeGreaterThan(40_000);
  });

  it('no arithmetic problem appears in two splits', () => {
    const where = new Map<string, SplitName>();
    for (const s of SPLITS) {
      for (const d of readSplit('arithmetic', s)) {
        for (const line of d.text.split('\n')) {
          expect(where.has(line), line).toBe(false);
          where.set(line, s);
        }
      }
    }
  });
});
