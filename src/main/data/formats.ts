// The example formats a dataset line may hold, and the checks that turn one parsed JSON line into
// an example or into one sentence saying what is wrong with it (the caller adds file:line).

export type ChatRole = 'system' | 'user' | 'assistant';
export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** One training example. `text`: loss on everything; `completion`: loss on the completion; `chat`: loss on assistant turns. */
export type Example =
  | { kind: 'text'; text: string }
  | { kind: 'completion'; prompt: string; completion: string }
  | { kind: 'chat'; messages: ChatMessage[] };

export type ExampleKind = Example['kind'];

export const EXAMPLE_KINDS: readonly ExampleKind[] = ['text', 'completion', 'chat'];

/** Caps on one conversation; past them the line is refused rather than rendered. */
export const MAX_MESSAGES = 1024;

export class LineProblem extends Error {
  override name = 'LineProblem';
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}

/** Message content: a string, or OpenAI-style parts where every part is `{type: "text", text}`. */
function contentOf(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    let out = '';
    v.forEach((part: unknown, k) => {
      if (typeof part !== 'object' || part === null) throw new LineProblem(`${where}[${k}] must be an object, found ${typeName(part)}`);
      const p = part as Record<string, unknown>;
      if (p.type !== 'text' || typeof p.text !== 'string') throw new LineProblem(`${where}[${k}] is not a text part (only {"type": "text", "text": …} parts are supported)`);
      out += p.text;
    });
    return out;
  }
  throw new LineProblem(`${where} must be a string, found ${typeName(v)}`);
}

function parseMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v)) throw new LineProblem(`field "messages" must be an array, found ${typeName(v)}`);
  if (v.length === 0) throw new LineProblem('field "messages" is empty');
  if (v.length > MAX_MESSAGES) throw new LineProblem(`the conversation has ${v.length} messages, more than the limit of ${MAX_MESSAGES}`);
  const out: ChatMessage[] = [];
  v.forEach((m: unknown, i) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new LineProblem(`messages[${i}] must be an object, found ${typeName(m)}`);
    const msg = m as Record<string, unknown>;
    const role = msg.role;
    if (typeof role !== 'string') throw new LineProblem(`messages[${i}].role must be a string, found ${typeName(role)}`);
    if (role !== 'system' && role !== 'user' && role !== 'assistant') {
      throw new LineProblem(`messages[${i}].role must be "system", "user" or "assistant", found ${JSON.stringify(role).slice(0, 40)}`);
    }
    out.push({ role, content: contentOf(msg.content, `messages[${i}].content`) });
  });
  if (!out.some((m) => m.role === 'assistant')) throw new LineProblem('the conversation has no assistant turn, so there is nothing to train on');
  return out;
}

/** The example a parsed JSONL value holds; throws LineProblem with the reason otherwise. */
export function exampleFromJson(value: unknown): Example {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineProblem(`expected a JSON object, found ${typeName(value)}`);
  }
  const obj = value as Record<string, unknown>;
  if ('messages' in obj) return { kind: 'chat', messages: parseMessages(obj.messages) };
  if ('prompt' in obj || 'completion' in obj) {
    if (typeof obj.prompt !== 'string') throw new LineProblem(`field "prompt" must be a string, found ${'prompt' in obj ? typeName(obj.prompt) : 'nothing'}`);
    if (typeof obj.completion !== 'string') throw new LineProblem(`field "completion" must be a string, found ${'completion' in obj ? typeName(obj.completion) : 'nothing'}`);
    if (obj.completion.length === 0) throw new LineProblem('field "completion" is empty, so there is nothing to train on');
    return { kind: 'completion', prompt: obj.prompt, completion: obj.completion };
  }
  if ('text' in obj) {
    if (typeof obj.text !== 'string') throw new LineProblem(`field "text" must be a string, found ${typeName(obj.text)}`);
    if (obj.text.trim().length === 0) throw new LineProblem('field "text" is empty');
    return { kind: 'text', text: obj.text };
  }
  const keys = Object.keys(obj).slice(0, 5).map((k) => JSON.stringify(k)).join(', ');
  throw new LineProblem(`no "text", "messages" or "prompt"/"completion" field (found ${keys || 'no fields'})`);
}

/** Parses one JSONL line into an example; throws LineProblem with the reason otherwise. */
export function exampleFromLine(text: string): Example {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message.replace(/^JSON\.parse: /, '').slice(0, 160);
    throw new LineProblem(`invalid JSON (${msg})`);
  }
  return exampleFromJson(value);
}

/**
 * A canonical string for an example's content, used for its identity: two lines with the same
 * canonical form are exact duplicates (and so always land in the same split).
 */
export function canonicalExample(example: Example): string {
  switch (example.kind) {
    case 'text':
      return `t\u0000${example.text}`;
    case 'completion':
      return `p\u0000${example.prompt}\u0000${example.completion}`;
    case 'chat':
      return `c\u0000${example.messages.map((m) => `${m.role}\u0000${m.content}`).join('\u0001')}`;
  }
}

/** Characters of content in an example (for stats before tokenization). */
export function exampleChars(example: Example): number {
  switch (example.kind) {
    case 'text':
      return example.text.length;
    case 'completion':
      return example.prompt.length + example.completion.length;
    case 'chat':
      return example.messages.reduce((n, m) => n + m.content.length, 0);
  }
}
