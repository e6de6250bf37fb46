// Examples as the model will see them: read from the stored file, then either shown by field
// (no model chosen) or encoded exactly as training encodes them — the model's tokenizer, its
// chat template, the loss mask — and decoded back in runs of trained / loss-masked tokens.
import { ChatTemplate } from '../data/chat-template';
import { ExampleEncoder, NO_LOSS, TOKEN_ID_MASK } from '../data/encode';
import type { Example } from '../data/formats';
import { readExamples, type TextMode } from '../data/reader';
import { inspectSource, type FileKind } from '../data/source';
import type { TextTokenizer } from '../data/tokenizer';
import type { PreviewExample, PreviewSegment } from '../../shared/services/datasets';

/** Characters shown per example; the rest is cut (the example's token counts stay whole). */
export const PREVIEW_MAX_CHARS = 4000;

export interface PreviewRequest {
  file: string;
  kind: FileKind;
  textMode: TextMode | null;
  offset: number;
  count: number;
}

/** Appends segments while keeping the total under the cap; returns false once it is reached. */
class SegmentList {
  readonly segments: PreviewSegment[] = [];
  private chars = 0;
  truncated = false;

  add(text: string, trained: boolean, role: PreviewSegment['role']): void {
    if (text.length === 0 || this.truncated) return;
    const room = PREVIEW_MAX_CHARS - this.chars;
    const shown = text.length > room ? text.slice(0, room) : text;
    if (shown.length < text.length) this.truncated = true;
    this.chars += shown.length;
    const last = this.segments.at(-1);
    if (last && last.trained === trained && last.role === role) last.text += shown;
    else if (shown.length > 0) this.segments.push({ text: shown, trained, role });
  }
}

function rawSegments(example: Example): SegmentList {
  const out = new SegmentList();
  switch (example.kind) {
    case 'text':
      out.add(example.text, true, null);
      break;
    case 'completion':
      out.add(example.prompt, false, null);
      out.add(example.completion, true, null);
      break;
    case 'chat':
      // A tool's result is input to the model, shown as the user side.
      for (const m of example.messages) out.add(m.content, m.role === 'assistant', m.role === 'tool' ? 'user' : m.role);
      break;
  }
  return out;
}

function encodedSegments(example: Example, encoder: ExampleEncoder, tok: TextTokenizer): { list: SegmentList; tokens: number; lossTokens: number } {
  const ids = encoder.encode(example);
  const list = new SegmentList();
  let lossTokens = 0;
  for (let i = 0; i < ids.length; i++) if ((ids[i]! & NO_LOSS) === 0) lossTokens++;
  let start = 0;
  while (start < ids.length && !list.truncated) {
    const trained = (ids[start]! & NO_LOSS) === 0;
    let end = start + 1;
    while (end < ids.length && ((ids[end]! & NO_LOSS) === 0) === trained) end++;
    const run: number[] = [];
    for (let i = start; i < end; i++) run.push(ids[i]! & TOKEN_ID_MASK);
    list.add(tok.decode(run), trained, trained && example.kind === 'chat' ? 'assistant' : null);
    start = end;
  }
  return { list, tokens: ids.length, lossTokens };
}

/** The encoder training uses for this tokenizer (chat template included when it has one). */
export function previewEncoder(tok: TextTokenizer): ExampleEncoder {
  const template = tok.chatTemplate === null ? null : new ChatTemplate(tok.chatTemplate, tok.origin, { bos: tok.bosToken, eos: tok.eosToken });
  return new ExampleEncoder(tok, template);
}

/** Reads examples offset..offset+count-1 of a file; bad records are skipped as training skips them. */
export async function previewExamples(req: PreviewRequest, tokenizer: TextTokenizer | null): Promise<PreviewExample[]> {
  const info = await inspectSource(req.file, req.kind);
  const stream = readExamples(info, req.textMode ? { textMode: req.textMode } : {});
  const encoder = tokenizer ? previewEncoder(tokenizer) : null;
  const out: PreviewExample[] = [];
  let index = 0;
  try {
    for await (const ev of stream.events) {
      if (!('example' in ev)) continue;
      const i = index++;
      if (i < req.offset) continue;
      const example = ev.example;
      if (encoder && tokenizer) {
        let encoded: ReturnType<typeof encodedSegments> | null = null;
        let problem: string | null = null;
        try {
          encoded = encodedSegments(example, encoder, tokenizer);
        } catch (err) {
          problem = err instanceof Error ? err.message : String(err);
        }
        if (encoded) {
          out.push({ index: i, line: ev.line, kind: example.kind, segments: encoded.list.segments, tokens: encoded.tokens, lossTokens: encoded.lossTokens, truncated: encoded.list.truncated });
        } else {
          // Training skips this example; the preview says why instead of hiding it.
          out.push({ index: i, line: ev.line, kind: example.kind, segments: [{ text: `skipped in training: ${problem}`, trained: false, role: null }], tokens: 0, lossTokens: 0, truncated: false });
        }
      } else {
        const list = rawSegments(example);
        out.push({ index: i, line: ev.line, kind: example.kind, segments: list.segments, tokens: null, lossTokens: null, truncated: list.truncated });
      }
      if (out.length >= req.count) break;
    }
  } finally {
    await stream.events.return(undefined);
  }
  return out;
}
