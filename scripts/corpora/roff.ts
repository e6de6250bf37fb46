// A small, deterministic roff-to-plain-text converter for man(7) pages, written for the man-page
// corpus instead of calling man/groff, whose output changes with groff versions, terminal width
// and locale. It understands the man macros, the common requests, tbl tables, conditionals,
// strings and page-defined macros well enough to recover the text; layout (indentation, filling
// to a width, hyphenation) is deliberately dropped: filled text becomes one line per paragraph.
import { renderInline, splitArgs, type InlineContext } from './roff-inline';
import { readTable } from './roff-table';

export interface ManSection {
  heading: string;
  /** Paragraphs, tagged items, code blocks and tables, each as plain text. */
  blocks: string[];
}

export interface ManPage {
  title: string;
  section: string;
  /** Set when the page is only a `.so` pointer to another page. */
  includes?: string;
  sections: ManSection[];
  /** Things the converter did not understand, e.g. "unknown request .foo" (for the build log). */
  warnings: string[];
}

const MAX_MACRO_DEPTH = 8;

// Requests and macros that only affect layout: nothing to emit.
const LAYOUT = new Set([
  'RS', 'RE', 'in', 'ti', 'ta', 'PD', 'ad', 'na', 'nh', 'hy', 'ne', 'bp', 'ft', 'ps', 'vs', 'nr', 'UC', 'll', 'lt',
  'pc', 'ns', 'rs', 'IX', 'cs', 'ss', 'tr', 'ev', 'mk', 'rt', 'ul', 'cu', 'hw', 'lf', 'pl', 'po', 'ls', 'fam', 'fl',
  'em', 'ch', 'wh', 'tm', 'rm', 'rn', 'ce', 'hc', 'lg', 'mso', 'do', 'cflags', 'pso', 'blm', 'lsm', 'ec', 'eo', 'sy',
  'AT', 'DT',
]);

interface Para {
  /** Lines that precede the filled text: tags of .TP/.IP items. */
  prefix: string[];
  /** Inline prefix (a bullet) placed before the first word. */
  inlinePrefix: string;
  text: string;
}

export function roffToText(source: string): ManPage {
  const page: ManPage = { title: '', section: '', sections: [], warnings: [] };
  const strings = new Map<string, string>([
    ['lq', '\u201c'], ['rq', '\u201d'], ['R', '\u00ae'], ['Tm', '\u2122'], ['S', ''], ['-', '-'],
  ]);
  const macros = new Map<string, string[]>();
  const ctx: InlineContext = { strings, warn: (w) => page.warnings.push(w) };
  const inline = (s: string): string => renderInline(s, ctx).text;

  let current: ManSection = { heading: '', blocks: [] };
  let para: Para = { prefix: [], inlinePrefix: '', text: '' };
  let noFill = false;
  let nfLines: string[] = [];
  let joinNext = false;
  let tagLines = 0; // text lines still to be taken as .TP tags
  let headingNext = false;
  let link: { url: string; text: string } | null = null;
  let lastElse = true; // the condition of the last .ie, for its .el

  const flush = (): void => {
    if (noFill && nfLines.length > 0) {
      while (nfLines.length > 0 && nfLines[nfLines.length - 1] === '') nfLines.pop();
      if (nfLines.length > 0) current.blocks.push([...para.prefix, ...nfLines].join('\n'));
      nfLines = [];
      para = { prefix: [], inlinePrefix: '', text: '' };
      return;
    }
    const body = para.text.replace(/[ \t]+/g, ' ').replace(/ ?\n ?/g, '\n').trim();
    const lines = [...para.prefix];
    if (body !== '') lines.push(para.inlinePrefix + body);
    if (lines.length > 0) current.blocks.push(lines.join('\n'));
    para = { prefix: [], inlinePrefix: '', text: '' };
    joinNext = false;
  };
  const newSection = (heading: string): void => {
    flush();
    if (current.heading !== '' || current.blocks.length > 0) page.sections.push(current);
    current = { heading, blocks: [] };
  };
  const addText = (text: string, continued: boolean): void => {
    if (headingNext) {
      headingNext = false;
      newSection(text.trim());
      return;
    }
    if (link) {
      link.text += (link.text === '' ? '' : ' ') + text;
      return;
    }
    if (tagLines > 0) {
      tagLines--;
      para.prefix.push(text.trim());
      return;
    }
    if (noFill) {
      if (joinNext && nfLines.length > 0) nfLines[nfLines.length - 1] += text;
      else nfLines.push(text);
    } else if (joinNext || para.text === '') para.text += text;
    else para.text += ' ' + text;
    joinNext = continued;
  };

  const lines = joinContinuations(source.split('\n'));
  const run = (input: string[], depth: number): void => {
    for (let i = 0; i < input.length; i++) {
      const raw = input[i] ?? '';
      const m = /^[.'][ \t]*([^ \t\\]*)(.*)$/.exec(raw);
      if (!m) {
        // A text line. Blank lines break paragraphs; a leading space breaks the line in fill mode.
        if (raw.trim() === '' && !noFill) {
          flush();
          continue;
        }
        if (!noFill && /^[ \t]/.test(raw) && para.text !== '') para.text += '\n';
        const r = renderInline(raw, ctx);
        addText(noFill ? r.text : r.text.trim(), r.continued);
        continue;
      }
      const name = m[1] ?? '';
      const rest = m[2] ?? '';
      if (name === '') continue; // "." alone, or a comment line ('\" or .\")
      const args = (): string[] => splitArgs(rest).map(inline);
      // Font macros' arguments may end in \c, which joins the next line without a space.
      const fontArgs = (joiner: string): void => {
        const parts = splitArgs(rest).map((a) => renderInline(a, ctx));
        addText(parts.map((p) => p.text).join(joiner), parts.some((p) => p.continued));
      };
      switch (name) {
        case 'TH': {
          const a = args();
          page.title = a[0] ?? '';
          page.section = a[1] ?? '';
          break;
        }
        case 'SH':
          if (rest.trim() === '') headingNext = true;
          else newSection(args().join(' '));
          break;
        case 'SS':
          flush();
          current.blocks.push(args().join(' '));
          break;
        case 'PP': case 'P': case 'LP': case 'HP': case 'sp': case 'SY': case 'YS':
          flush();
          if (name === 'SY' && rest.trim() !== '') addText(args().join(' '), false);
          break;
        case 'br':
          if (noFill) break;
          if (para.text !== '') para.text += '\n';
          break;
        case 'TP':
          flush();
          tagLines = 1;
          break;
        case 'TQ':
          tagLines++;
          break;
        case 'IP': {
          flush();
          const tag = args()[0] ?? '';
          if (tag.length > 0 && tag.length <= 3) para.inlinePrefix = `${tag} `;
          else if (tag.length > 3) para.prefix.push(tag);
          break;
        }
        case 'nf': case 'EX':
          flush();
          noFill = true;
          break;
        case 'fi': case 'EE':
          flush();
          noFill = false;
          break;
        case 'B': case 'I': case 'SM': case 'SB': case 'R':
          if (rest.trim() !== '') fontArgs(' ');
          break;
        case 'BR': case 'RB': case 'IR': case 'RI': case 'BI': case 'IB':
          fontArgs('');
          break;
        case 'OP': {
          const a = args();
          addText(`[${a.join(' ')}]`, false);
          break;
        }
        case 'UR': case 'MT':
          link = { url: args()[0] ?? '', text: '' };
          break;
        case 'UE': case 'ME': {
          const l = link;
          link = null;
          if (!l) break;
          const shown = l.text === '' ? l.url : `${l.text} <${l.url}>`;
          addText(shown + args().join(''), false);
          break;
        }
        case 'so':
          page.includes = rest.trim();
          break;
        case 'ds': case 'as': {
          const mm = /^\s*(\S+)\s?"?(.*)$/.exec(rest);
          if (mm?.[1]) {
            const value = inline(mm[2] ?? '');
            strings.set(mm[1], name === 'as' ? (strings.get(mm[1]) ?? '') + value : value);
          }
          break;
        }
        case 'de': case 'de1': case 'am': case 'ig': {
          const macroName = splitArgs(rest)[0] ?? '';
          const end = name === 'ig' ? macroName || '.' : splitArgs(rest)[1] ?? '.';
          const body: string[] = [];
          i++;
          while (i < input.length && !new RegExp(`^[.'][ \\t]*${escapeRe(end === '.' ? '.' : end)}[ \\t]*$`).test(input[i] ?? '')) {
            body.push(input[i] ?? '');
            i++;
          }
          if (name !== 'ig') macros.set(macroName, name === 'am' ? [...(macros.get(macroName) ?? []), ...body] : body);
          break;
        }
        case 'if': case 'ie': case 'el': {
          let cond: boolean;
          let tail: string;
          if (name === 'el') {
            cond = !lastElse;
            tail = rest.trimStart();
          } else {
            const c = parseCondition(rest.trimStart(), ctx);
            cond = c.value;
            tail = c.rest;
            if (name === 'ie') lastElse = cond;
          }
          // A block "\{ … \}" may span lines; otherwise the rest of the line is one input line.
          let body: string[];
          if (tail.startsWith('\\{')) {
            body = [];
            let line = tail.slice(2);
            let j = i;
            for (;;) {
              const close = line.indexOf('\\}');
              if (close >= 0) {
                if (line.slice(0, close).trim() !== '') body.push(line.slice(0, close));
                break;
              }
              if (line.trim() !== '') body.push(line);
              j++;
              if (j >= input.length) break;
              line = input[j] ?? '';
            }
            i = j;
          } else body = tail.trim() === '' ? [] : [tail];
          if (cond && depth < MAX_MACRO_DEPTH) run(body, depth + 1);
          break;
        }
        case 'TS': {
          flush();
          const table: string[] = [];
          i++;
          const end = readTable(input, i, ctx, table);
          i = end;
          current.blocks.push(table.join('\n'));
          break;
        }
        default: {
          const macro = macros.get(name);
          if (macro) {
            if (depth >= MAX_MACRO_DEPTH) {
              page.warnings.push(`macro .${name} nested too deep`);
              break;
            }
            const a = splitArgs(rest);
            const expanded = macro.map((l) =>
              l
                .replace(/\\\\\$(\d)/g, (_m, n: string) => a[Number(n) - 1] ?? '')
                .replace(/\\\\\$[*@]/g, a.join(' '))
                .replace(/\\\\/g, '\\'),
            );
            run(expanded, depth + 1);
          } else if (!LAYOUT.has(name)) {
            page.warnings.push(`unknown request .${name}`);
          }
          break;
        }
      }
    }
  };
  run(lines, 0);
  newSection('');
  page.sections = page.sections.filter((s) => s.blocks.length > 0 || s.heading !== '');
  return page;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Lines ending in an unescaped backslash continue on the next line. */
function joinContinuations(lines: string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const line of lines) {
    const stripped = stripComment(line);
    const trailing = /(\\+)$/.exec(stripped);
    if (trailing && (trailing[1] ?? '').length % 2 === 1) {
      pending += stripped.slice(0, -1);
      continue;
    }
    out.push(pending + stripped);
    pending = '';
  }
  if (pending !== '') out.push(pending);
  return out;
}

/** Cut a `\"` (or groff `\#`) comment, minding escaped backslashes. */
export function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '\\') continue;
    const next = line[i + 1];
    if (next === '"' || next === '#') return line.slice(0, i).replace(/[ \t]+$/, '');
    i++;
  }
  return line;
}

/** The conditions man pages use: n (true here, we render for a terminal), t, groff's \n(.g, 'a'b'. */
function parseCondition(s: string, ctx: InlineContext): { value: boolean; rest: string } {
  let negate = false;
  let t = s;
  if (t.startsWith('!')) {
    negate = true;
    t = t.slice(1);
  }
  let value = false;
  let rest = t;
  let m: RegExpExecArray | null;
  if ((m = /^([ntoe])\s*/.exec(t))) {
    value = m[1] === 'n' || m[1] === 'o';
    rest = t.slice(m[0].length);
  } else if ((m = /^\\n(\(\.g|\[\.g\])\s*/.exec(t))) {
    value = true;
    rest = t.slice(m[0].length);
  } else if ((m = /^'([^']*)'([^']*)'\s*/.exec(t))) {
    value = renderInline(m[1] ?? '', ctx).text === renderInline(m[2] ?? '', ctx).text;
    rest = t.slice(m[0].length);
  } else {
    ctx.warn(`unknown condition ${t.slice(0, 12)}`);
    rest = t.replace(/^\S+\s*/, '');
  }
  return { value: negate ? !value : value, rest };
}
