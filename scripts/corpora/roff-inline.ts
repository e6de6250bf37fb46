// Inline roff: escapes within a line (\fB, \-, \(em, \[bu], \*(lq, \c…) rendered to plain text,
// and argument splitting for requests and macros ("quoted args" with "" for a literal quote).
// Layout escapes (fonts, sizes, motions, widths) render to nothing.

export interface InlineContext {
  strings: Map<string, string>;
  warn(message: string): void;
}

// Named characters man pages use (groff_char(7)); anything else is reported and dropped.
const GLYPHS: Record<string, string> = {
  bu: '\u2022', em: '\u2014', en: '\u2013', aq: "'", dq: '"', ha: '^', ti: '~', lq: '\u201c', rq: '\u201d',
  oq: '\u2018', cq: '\u2019', dg: '\u2020', dd: '\u2021', de: '\u00b0', fm: '\u2032', sd: '\u2033', la: '\u27e8',
  ra: '\u27e9', mi: '-', hy: '-', pl: '+', eq: '=', mu: '\u00d7', di: '\u00f7', '+-': '\u00b1', mc: '\u00b5',
  ga: '`', aa: '\u00b4', co: '\u00a9', rg: '\u00ae', tm: '\u2122', sc: '\u00a7', ps: '\u00b6', ct: '\u00a2',
  Po: '\u00a3', Ye: '\u00a5', Eu: '\u20ac', eu: '\u20ac', '<=': '\u2264', '>=': '\u2265', '!=': '\u2260',
  '->': '\u2192', '<-': '\u2190', '==': '\u2261', '~=': '\u2245', '**': '*', sl: '/', rs: '\\', ba: '|',
  br: '\u2502', ul: '_', rn: '\u203e', lh: '\u261c', rh: '\u261e', ci: '\u25cb', sq: '\u25a1', OK: '\u2713',
  'Fo': '\u00ab', 'Fc': '\u00bb', fo: '\u2039', fc: '\u203a', ss: '\u00df', ae: '\u00e6', AE: '\u00c6',
  'o/': '\u00f8', 'O/': '\u00d8', '12': '\u00bd', '14': '\u00bc', '34': '\u00be', ua: '\u2191', da: '\u2193',
  tno: '~', at: '@', sh: '#', Do: '$', lB: '[', rB: ']', lC: '{', rC: '}', la2: '\u27e8', ho: '\u02db',
  'a"': '\u02dd', 'a-': '\u00af', 'a.': '\u02d9', 'a^': '^', ab: '\u02d8', ac: '\u00b8', ad: '\u00a8', ah: '\u02c7',
  ao: '\u02da', 'a~': '~', 'r!': '\u00a1', 'r?': '\u00bf', pc: '\u00b7', nb: '\u2284', pt: '\u221d', if: '\u221e',
  sr: '\u221a', integral: '\u222b', es: '\u2205', mo: '\u2208', nm: '\u2209', ca: '\u2229', cu: '\u222a',
  sb: '\u2282', sp: '\u2283', ib: '\u2286', ip: '\u2287', fa: '\u2200', te: '\u2203', no: '\u00ac', AN: '\u2227',
  OR: '\u2228', '*a': '\u03b1', '*b': '\u03b2', '*g': '\u03b3', '*d': '\u03b4', '*e': '\u03b5', '*l': '\u03bb',
  '*m': '\u03bc', '*p': '\u03c0', '*s': '\u03c3', '*t': '\u03c4', '*W': '\u03a9',
};

// Accented letters written \[`a], \['e], \[:o], \[^a], \[~n], \[,c].
const ACCENTS: Record<string, string> = { '`': '\u0300', "'": '\u0301', '^': '\u0302', '~': '\u0303', ':': '\u0308', ',': '\u0327' };

export function glyph(name: string, ctx: InlineContext): string {
  const g = GLYPHS[name];
  if (g !== undefined) return g;
  let m = /^u([0-9A-Fa-f]{4,6})(_[0-9A-Fa-f]{4,6})*$/.exec(name);
  if (m) return name.slice(1).split('_').map((h) => String.fromCodePoint(parseInt(h.replace(/^u/, ''), 16))).join('');
  m = /^char(\d+)$/.exec(name);
  if (m) return String.fromCharCode(Number(m[1]));
  m = /^([`'^~:,])([A-Za-z])$/.exec(name);
  if (m) return ((m[2] ?? '') + (ACCENTS[m[1] ?? ''] ?? '')).normalize('NFC');
  ctx.warn(`unknown glyph \\[${name}]`);
  return '';
}

/** A delimited argument such as 'abc' in \w'abc': returns the argument and the index after it. */
function delimited(s: string, at: number): { arg: string; end: number } {
  const delim = s[at];
  if (delim === undefined) return { arg: '', end: at };
  const close = s.indexOf(delim, at + 1);
  if (close < 0) return { arg: s.slice(at + 1), end: s.length };
  return { arg: s.slice(at + 1, close), end: close + 1 };
}

/** A name after \* \n \f \( or \[: one char, "(xx", or "[long name]". */
function escName(s: string, at: number): { name: string; end: number } {
  const c = s[at];
  if (c === '(') return { name: s.slice(at + 1, at + 3), end: at + 3 };
  if (c === '[') {
    const close = s.indexOf(']', at);
    if (close < 0) return { name: s.slice(at + 1), end: s.length };
    return { name: s.slice(at + 1, close), end: close + 1 };
  }
  return { name: c ?? '', end: at + 1 };
}

export function renderInline(s: string, ctx: InlineContext, depth = 0): { text: string; continued: boolean } {
  let out = '';
  let continued = false;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] ?? '';
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const e = s[i + 1];
    i++;
    switch (e) {
      case undefined:
        break;
      case '"': case '#':
        return { text: out, continued };
      case 'e': case 'E': case '\\':
        out += '\\';
        break;
      case '-': case '_': case '.': case '`':
        out += e;
        break;
      case "'":
        out += "'";
        break;
      case ' ': case '~': case '0':
        out += ' ';
        break;
      case 't':
        out += '\t';
        break;
      case '&': case ':': case '%': case '|': case '^': case '/': case ',': case ')': case 'a': case 'd':
      case 'u': case 'r': case 'p': case '{': case '}': case 'z': case 'M': case 'm':
        // zero-width or layout-only escapes
        if ((e === 'M' || e === 'm') && (s[i + 1] === '[' || s[i + 1] === '(')) i = escName(s, i + 1).end - 1;
        break;
      case 'c':
        continued = true;
        break;
      case 'f': case 'F': case 'k': case 'n': case 'g': case 'Y': case 'V': {
        const at = e === 'n' && (s[i + 1] === '+' || s[i + 1] === '-') ? i + 2 : i + 1;
        i = escName(s, at).end - 1;
        break;
      }
      case 's': {
        let j = i + 1;
        if (s[j] === '+' || s[j] === '-') j++;
        if (s[j] === '(') j += 3;
        else if (s[j] === '[' || s[j] === "'") j = delimited(s, j).end;
        else while (j < s.length && /\d/.test(s[j] ?? '') && j < i + 3) j++;
        i = j - 1;
        break;
      }
      case '(': case '[': {
        const n = escName(s, i);
        out += glyph(n.name, ctx);
        i = n.end - 1;
        break;
      }
      case '*': {
        const n = escName(s, i + 1);
        const value = ctx.strings.get(n.name);
        if (value === undefined) ctx.warn(`unknown string \\*[${n.name}]`);
        else out += depth < 8 ? renderInline(value, ctx, depth + 1).text : value;
        i = n.end - 1;
        break;
      }
      case 'N': {
        const d = delimited(s, i + 1);
        const code = Number(d.arg);
        if (Number.isInteger(code)) out += String.fromCharCode(code);
        i = d.end - 1;
        break;
      }
      case 'w': case 'h': case 'v': case 'l': case 'L': case 'o': case 'D': case 'b': case 'x': case 'H': case 'S':
      case 'X': case 'R': case 'C': case 'A': case 'B': case 'O': case 'Z': {
        const d = delimited(s, i + 1);
        if (e === 'C') out += glyph(d.arg, ctx);
        else if (e === 'Z' || e === 'o') out += renderInline(d.arg, ctx, depth + 1).text;
        i = d.end - 1;
        break;
      }
      default:
        ctx.warn(`unknown escape \\${e}`);
        out += e;
    }
  }
  return { text: out, continued };
}

/** Request and macro arguments: blank-separated, "double quoted" to hold blanks, "" a literal quote. */
export function splitArgs(s: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) break;
    let arg = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length) {
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            arg += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (s[i] === '\\' && i + 1 < s.length) {
          arg += s.slice(i, i + 2);
          i += 2;
          continue;
        }
        arg += s[i];
        i++;
      }
    } else {
      while (i < s.length && s[i] !== ' ' && s[i] !== '\t') {
        if (s[i] === '\\' && i + 1 < s.length) {
          arg += s.slice(i, i + 2);
          i += 2;
          continue;
        }
        arg += s[i];
        i++;
      }
    }
    args.push(arg);
  }
  return args;
}
