// tbl(1) tables inside man pages, read to plain text: one line per row, cells separated by tabs,
// multi-line T{ … T} cells joined into one line, rules and format lines dropped.
import { renderInline, type InlineContext } from './roff-inline';

/** A tbl(1) table from after `.TS` to `.TE`: one line per row, cells separated by tabs. */
export function readTable(input: string[], start: number, ctx: InlineContext, out: string[]): number {
  let i = start;
  let tab = '\t';
  // Options line (ends with ";"), then format lines up to one ending with ".".
  const skipFormat = (): void => {
    const first = input[i] ?? '';
    if (/;\s*$/.test(first)) {
      const t = /tab\s*\((.)\)/.exec(first);
      if (t?.[1]) tab = t[1];
      i++;
    }
    while (i < input.length && !/\.\s*$/.test(input[i] ?? '')) i++;
    i++;
  };
  skipFormat();
  let cells: string[] = [];
  let block: string[] | null = null;
  for (; i < input.length; i++) {
    const line = input[i] ?? '';
    if (/^[.'][ \t]*TE\b/.test(line)) break;
    if (block) {
      if (line.startsWith('T}')) {
        cells.push(block.join(' ').replace(/ {2,}/g, ' ').trim());
        block = null;
        const after = line.slice(2);
        if (after.startsWith(tab)) {
          cells.push(...after.slice(1).split(tab).map((c) => renderInline(c, ctx).text.trim()));
          if (cells[cells.length - 1]?.endsWith('T{')) {
            cells.pop();
            block = [];
            continue;
          }
        }
        if (!block) {
          out.push(cells.join('\t'));
          cells = [];
        }
      } else if (!/^[.']/.test(line)) block.push(renderInline(line, ctx).text.trim());
      continue;
    }
    if (/^[.'][ \t]*T&/.test(line)) {
      i++;
      while (i < input.length && !/\.\s*$/.test(input[i] ?? '')) i++;
      continue;
    }
    if (/^[.']/.test(line) || /^[_=]\s*$/.test(line)) continue;
    const parts = line.split(tab);
    const lastRaw = parts[parts.length - 1] ?? '';
    if (lastRaw.trim() === 'T{') {
      cells = parts.slice(0, -1).map((c) => renderInline(c, ctx).text.trim());
      block = [];
      continue;
    }
    out.push(parts.map((c) => (/^[_=]$/.test(c.trim()) ? '' : renderInline(c, ctx).text.trim())).join('\t').replace(/\t+$/, ''));
  }
  return i;
}
