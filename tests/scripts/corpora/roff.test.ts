// The roff-to-text reader on man(7) constructs taken from real pages: fonts and escapes, tagged
// and bulleted paragraphs, no-fill examples, tables, strings, conditionals, page-defined macros,
// .so pointers, and broken input (unterminated blocks) that must not throw.
import { describe, expect, it } from 'vitest';
import { headerComment, licenseShipping, pageDocuments, pageLicense } from '../../../scripts/corpora/domains/manpages';
import { roffToText } from '../../../scripts/corpora/roff';

function text(src: string): string {
  return roffToText(src)
    .sections.map((s) => [s.heading, ...s.blocks].filter((x) => x !== '').join('\n\n'))
    .join('\n\n');
}

describe('roffToText', () => {
  it('reads the title, headings and filled paragraphs with font escapes and glyphs removed or rendered', () => {
    const page = roffToText(
      [
        '.\\" a comment',
        '.TH signal 7 2023-02-05 "Linux man-pages 6.03"',
        '.SH NAME',
        'signal \\- overview of signals',
        '.SH DESCRIPTION',
        'Linux supports \\fBboth\\fP POSIX',
        '.IR reliable ,',
        'and \\(lqreal-time\\(rq signals\\[em]see',
        '.BR sigaction (2).',
        '.PP',
        'Second \\%para\\&graph with \\e and \\[u00E9].',
      ].join('\n'),
    );
    expect(page.title).toBe('signal');
    expect(page.section).toBe('7');
    expect(page.sections.map((s) => s.heading)).toEqual(['NAME', 'DESCRIPTION']);
    expect(page.sections[1]?.blocks).toEqual(['Linux supports both POSIX reliable, and \u201creal-time\u201d signals\u2014see sigaction(2).', 'Second paragraph with \\ and \u00e9.']);
    expect(page.warnings).toEqual([]);
  });

  it('renders .TP tags on their own line and short .IP tags inline', () => {
    const src = ['.TH t 1', '.SH X', '.TP', '.B SIGTERM', 'Termination', 'signal.', '.IP \\[bu] 3', 'A bullet.', '.IP "(1.1)"', 'Numbered.'].join('\n');
    expect(text(src)).toBe('X\n\nSIGTERM\nTermination signal.\n\n\u2022 A bullet.\n\n(1.1)\nNumbered.');
  });

  it('keeps no-fill examples line by line, and joins \\c continuations', () => {
    const src = ['.TH t 1', '.SH X', '.EX', 'int main(void)', '{', '    return 0;', '}', '.EE', 'see', '.BR foo (3)\\c', ', then'].join('\n');
    expect(text(src)).toBe('X\n\nint main(void)\n{\n    return 0;\n}\n\nsee foo(3), then');
  });

  it('reads tbl tables, including T{ T} cells, as tab-separated rows', () => {
    const src = ['.TH t 1', '.SH X', '.TS', 'l l lx.', 'ESC c\tRIS\tReset.', '_', '@\tICH\tT{', 'Insert the', 'blank characters.', 'T}', '.TE'].join('\n');
    expect(text(src)).toBe('X\n\nESC c\tRIS\tReset.\n@\tICH\tInsert the blank characters.');
  });

  it('evaluates strings, nroff conditionals and page-defined macros with arguments', () => {
    const src = [
      '.TH t 1',
      '.de q',
      '\\\\$3\\*(lq\\\\$1\\*(rq\\\\$2',
      '..',
      ".ie '\\[lq]'' .ds lq \\&\"\\\"",
      '.el .ds lq <<',
      '.ds rq >>',
      '.if t \\{\\',
      'typeset only',
      '.\\}',
      '.if n nroff only',
      '.SH X',
      '.q "TZif" , (',
    ].join('\n');
    expect(text(src)).toBe('nroff only\n\nX\n\n(<<TZif>>,');
  });

  it('recognises a page that only points to another with .so', () => {
    expect(roffToText('.so man7/queue.7').includes).toBe('man7/queue.7');
    expect(pageDocuments('.so man7/queue.7')).toEqual({ skip: 'only a .so link to another page' });
  });

  it('survives broken input: unterminated macro, table, block and link', () => {
    for (const src of ['.TH t 1\n.de foo\nnever closed', '.TH t 1\n.TS\nl l.\na\tb', '.TH t 1\n.if n \\{\\\nopen block', '.TH t 1\n.UR http://x\nlink', '.TH t 1\n.BR "unbalanced', '\\', '.']) {
      expect(() => roffToText(src)).not.toThrow();
    }
    expect(roffToText('.TH t 1\n.SH X\n.zz odd\nfoo \\q').warnings).toEqual(['unknown request .zz', 'unknown escape \\q']);
  });
});

describe('man page documents and notices', () => {
  const src = ['.\\" Copyright (c) 1993 A. Author', '.\\"', '.\\" SPDX-License-Identifier: Linux-man-pages-copyleft', '.TH demo 7', '.SH NAME', 'demo \\- a page', '.SH DESCRIPTION', 'Body text.'].join('\n');

  it('heads every chunk with the page name', () => {
    expect(pageDocuments(src)).toEqual({ name: 'demo(7)', chunks: ['demo(7)\n\nNAME\n\ndemo - a page\n\nDESCRIPTION\n\nBody text.'] });
  });

  it('keeps the header comment verbatim and finds its license', () => {
    const header = headerComment(src);
    expect(header).toBe('Copyright (c) 1993 A. Author\n\nSPDX-License-Identifier: Linux-man-pages-copyleft');
    expect(pageLicense(header)).toBe('Linux-man-pages-copyleft');
    expect(pageLicense('%%%LICENSE_START(VERBATIM_ONE_PARA)')).toBe('man-pages VERBATIM_ONE_PARA');
    expect(pageLicense('no notice at all')).toBe('unknown');
  });

  it('also finds a notice placed after the page\'s macro definitions, and drops the preprocessor line', () => {
    const late = ["'\\\" t", '.\\" Man page generated from reStructuredText.', '.de X', '..', '.\\" Copyright (C) BPF authors', '.\\" SPDX-License-Identifier: MIT', '.TH x 7'].join('\n');
    expect(headerComment(late)).toBe('Man page generated from reStructuredText.\n\nCopyright (C) BPF authors\nSPDX-License-Identifier: MIT');
  });

  it('ships a page only when its license can travel with it', () => {
    const known = (id: string): boolean => ['GPL-2.0-or-later', 'MIT'].includes(id);
    expect(licenseShipping('GPL-2.0-or-later', known)).toEqual({ ok: true, spdx: 'GPL-2.0-or-later' });
    expect(licenseShipping('man-pages VERBATIM_ONE_PARA', known)).toEqual({ ok: true, spdx: null });
    expect(licenseShipping('man-pages LDPv1', known)).toEqual({ ok: false });
    expect(licenseShipping('Made-Up-1.0', known)).toEqual({ ok: false });
    expect(licenseShipping('unknown', known)).toEqual({ ok: false });
  });
});
