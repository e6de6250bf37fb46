// Reads a data file as a stream of examples and problems, each with its line number: JSONL
// (text / chat / prompt+completion, one format per file) or plain text split into documents.
import { LineProblem, exampleFromLine, type Example, type ExampleKind } from './formats';
import { formatBytes, readLines, type LineEvent } from './lines';
import { streamSource, type SourceInfo, type StreamedSource } from './source';
import type { TextMode } from '../../shared/datasets';

/** How a plain-text file becomes documents: one per blank-line-separated paragraph, or one per file (defined in src/shared/datasets.ts). */
export type { TextMode } from '../../shared/datasets';

export interface ReadOptions {
  textMode: TextMode;
  /** Longest line read, in bytes (default 16 MiB). */
  maxLineBytes: number;
  /** Longest text document, in characters (default 64 Mi). */
  maxDocumentChars: number;
}

export const DEFAULT_READ_OPTIONS: ReadOptions = {
  textMode: 'paragraphs',
  maxLineBytes: 16 << 20,
  maxDocumentChars: 64 << 20,
};

export type ReadEvent = { line: number; example: Example } | { line: number; problem: string };

export interface ExampleStream {
  events: AsyncGenerator<ReadEvent>;
  source: StreamedSource;
  /** The file's example format, known once the first example was read. */
  kind: () => ExampleKind | null;
}

const KIND_WORDS: Record<ExampleKind, string> = { text: 'a "text" example', completion: 'a "prompt"/"completion" example', chat: 'a "messages" example' };

/** What reading JSONL carries from line to line: the file's format, and whether line 1 was a lone "{". */
export interface JsonlState {
  kind: ExampleKind | null;
  firstLineOpenBrace: boolean;
}

/** One JSONL line as an example or a problem; null for a blank line. */
export function jsonlEvent(ev: LineEvent, state: JsonlState): ReadEvent | null {
  if ('problem' in ev) return ev;
  const text = ev.text;
  if (text.trim().length === 0) return null;
  if (ev.line === 1 && text.trim() === '{') state.firstLineOpenBrace = true;
  try {
    const example = exampleFromLine(text);
    if (state.kind === null) state.kind = example.kind;
    else if (example.kind !== state.kind) {
      throw new LineProblem(`the line holds ${KIND_WORDS[example.kind]}, but the file's first example is ${KIND_WORDS[state.kind]}; a dataset holds one format`);
    }
    return { line: ev.line, example };
  } catch (err) {
    if (!(err instanceof LineProblem)) throw err;
    const hint = state.firstLineOpenBrace && ev.line <= 2 ? '; the file looks like pretty-printed JSON, but JSONL needs one object per line' : '';
    return { line: ev.line, problem: err.message + hint };
  }
}

async function* jsonlEvents(lines: AsyncGenerator<LineEvent>, state: JsonlState): AsyncGenerator<ReadEvent> {
  for await (const ev of lines) {
    const out = jsonlEvent(ev, state);
    if (out) yield out;
  }
}

async function* textEvents(lines: AsyncGenerator<LineEvent>, options: ReadOptions, state: JsonlState): AsyncGenerator<ReadEvent> {
  let doc: string[] = [];
  let recent: string[] = [];
  let recentChars = 0;
  let chars = 0;
  let start = 0; // line of the document's first line; 0 when no document is open
  let broken: { line: number; problem: string } | null = null;
  const perFile = options.textMode === 'file';

  function* close(): Generator<ReadEvent> {
    if (start === 0) return;
    // The state is reset before yielding: the lines no longer needed are let go while the document is tokenized.
    if (recent.length > 0) doc.push(recent.join('\n'));
    const [first, lines, size, problem] = [start, doc, chars, broken];
    doc = [];
    recent = [];
    recentChars = 0;
    chars = 0;
    start = 0;
    broken = null;
    if (problem) yield problem;
    else if (size > options.maxDocumentChars) {
      const how = perFile ? '; split the file or import it with paragraph documents' : '';
      yield { line: first, problem: `the document is ${formatBytes(size)} characters long, over the limit of ${formatBytes(options.maxDocumentChars)}${how}` };
    } else {
      if (lines.some((l) => l.trim().length > 0)) {
        state.kind = 'text';
        // A document of one piece is its text; a longer one stays in pieces (joined on demand):
        // the encoder reads them without ever building the whole string beside them.
        if (lines.length === 1) yield { line: first, example: { kind: 'text', text: lines[0]! } };
        else yield { line: first, example: { kind: 'text', lines, get text() { return lines.join('\n'); } } };
      }
    }
  }

  for await (const ev of lines) {
    if ('problem' in ev) {
      if (start === 0) start = ev.line;
      broken ??= ev;
      continue;
    }
    const blank = ev.text.trim().length === 0;
    if (blank && !perFile) {
      yield* close();
      continue;
    }
    if (start === 0) {
      if (blank) continue; // leading blank lines of a per-file document
      start = ev.line;
    }
    if (broken) continue;
    chars += ev.text.length + 1;
    // Past the cap the document is refused; stop holding its lines.
    if (chars <= options.maxDocumentChars) {
      // Lines are joined 16 K characters at a time: a long document holds pieces, not a string per
      // line, and small ones: the lines die young, and a piece without a character beyond Latin-1
      // is stored a byte per character (one such character makes a whole piece two bytes each).
      recent.push(ev.text);
      recentChars += ev.text.length + 1;
      if (recentChars >= 1 << 14) {
        doc.push(recent.join('\n'));
        recent = [];
        recentChars = 0;
      }
    } else {
      doc = [];
      recent = [];
    }
  }
  yield* close();
}

/** Streams the lines of a file that `inspectSource` accepted, as `readExamples` reads them. */
export function readLineEvents(info: SourceInfo, options: Partial<ReadOptions> = {}): { lines: AsyncGenerator<LineEvent>; source: StreamedSource } {
  const opts = { ...DEFAULT_READ_OPTIONS, ...options };
  const source = streamSource(info);
  return { lines: readLines(source.chunks, { maxLineBytes: opts.maxLineBytes }), source };
}

/** Streams the examples of a file that `inspectSource` accepted. */
export function readExamples(info: SourceInfo, options: Partial<ReadOptions> = {}): ExampleStream {
  const opts = { ...DEFAULT_READ_OPTIONS, ...options };
  const { lines, source } = readLineEvents(info, opts);
  const state: JsonlState = { kind: null, firstLineOpenBrace: false };
  const events = info.kind === 'jsonl' ? jsonlEvents(lines, state) : textEvents(lines, opts, state);
  return { events, source, kind: () => state.kind };
}
