// The example formats a dataset line may hold, and the checks that turn one parsed JSON line into
// an example or into one sentence saying what is wrong with it (the caller adds file:line).

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A function call an assistant turn makes, as OpenAI and Hugging Face chat data write it. */
export interface ToolCall {
  type: 'function';
  function: { name: string; arguments: JsonValue };
  id?: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** Assistant turns: the calls it makes (rendered by the model's template, trained as its output). */
  tool_calls?: ToolCall[];
  /** Tool turns: which call this is the result of, and the tool's name. */
  tool_call_id?: string;
  name?: string;
}

/** One training example. `text`: loss on everything; `completion`: loss on the completion; `chat`: loss on assistant turns. */
export type Example =
  /**
   * `lines`, when given, are the text's pieces joined by "\n" (a long document as read): those who
   * can work on them never build the whole string; `text` joins them on demand.
   */
  | { kind: 'text'; text: string; lines?: readonly string[] }
  | { kind: 'completion'; prompt: string; completion: string }
  | { kind: 'chat'; messages: ChatMessage[]; tools?: JsonValue[] };

export type ExampleKind = Example['kind'];

export const EXAMPLE_KINDS: readonly ExampleKind[] = ['text', 'completion', 'chat'];

/** Caps on one conversation; past them the line is refused rather than rendered. */
export const MAX_MESSAGES = 1024;
export const MAX_TOOL_CALLS = 128;
export const MAX_TOOLS = 256;
/** Nesting of tool arguments and tool schemas: a template's `tojson` recurses once per level. */
export const MAX_JSON_DEPTH = 32;

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

/** Nesting depth of a JSON value, stopping early past `max`. */
function depthOf(v: unknown, max: number, depth = 0): number {
  if (depth > max || typeof v !== 'object' || v === null) return depth;
  let deepest = depth + 1;
  for (const x of Array.isArray(v) ? v : Object.values(v)) {
    deepest = Math.max(deepest, depthOf(x, max, depth + 1));
    if (deepest > max) break;
  }
  return deepest;
}

function shallowJson(v: unknown, where: string): JsonValue {
  if (depthOf(v, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw new LineProblem(`${where} is nested more than ${MAX_JSON_DEPTH} levels deep`);
  return v as JsonValue;
}

function optionalString(v: unknown, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new LineProblem(`${where} must be a string, found ${typeName(v)}`);
  return v;
}

function parseToolCalls(v: unknown, where: string): ToolCall[] {
  if (!Array.isArray(v)) throw new LineProblem(`${where} must be an array, found ${typeName(v)}`);
  if (v.length > MAX_TOOL_CALLS) throw new LineProblem(`${where} has ${v.length} calls, more than the limit of ${MAX_TOOL_CALLS}`);
  return v.map((c: unknown, k) => {
    const at = `${where}[${k}]`;
    if (typeof c !== 'object' || c === null || Array.isArray(c)) throw new LineProblem(`${at} must be an object, found ${typeName(c)}`);
    const call = c as Record<string, unknown>;
    if (call.type !== undefined && call.type !== 'function') throw new LineProblem(`${at}.type must be "function", found ${JSON.stringify(call.type).slice(0, 40)}`);
    const fn = call.function;
    if (typeof fn !== 'object' || fn === null || Array.isArray(fn)) throw new LineProblem(`${at}.function must be an object with "name" and "arguments", found ${typeName(fn)}`);
    const { name, arguments: args } = fn as Record<string, unknown>;
    if (name === undefined) throw new LineProblem(`${at}.function.name is missing`);
    if (typeof name !== 'string' || name.length === 0) throw new LineProblem(`${at}.function.name must be a non-empty string, found ${typeof name === 'string' ? 'an empty one' : typeName(name)}`);
    if (args === undefined) throw new LineProblem(`${at}.function.arguments is missing`);
    const id = optionalString(call.id, `${at}.id`);
    return { type: 'function', function: { name, arguments: shallowJson(args, `${at}.function.arguments`) }, ...(id !== undefined ? { id } : {}) };
  });
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
    if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'tool') {
      throw new LineProblem(`messages[${i}].role must be "system", "user", "assistant" or "tool", found ${JSON.stringify(role).slice(0, 40)}`);
    }
    const calls = role === 'assistant' && msg.tool_calls !== undefined && msg.tool_calls !== null ? parseToolCalls(msg.tool_calls, `messages[${i}].tool_calls`) : [];
    if (msg.tool_calls !== undefined && msg.tool_calls !== null && role !== 'assistant') throw new LineProblem(`messages[${i}] has "tool_calls", which only assistant messages may have`);
    // An assistant turn that only calls tools often has no content (null in OpenAI's format).
    const content = calls.length > 0 && (msg.content === null || msg.content === undefined) ? '' : contentOf(msg.content, `messages[${i}].content`);
    const message: ChatMessage = { role, content };
    if (calls.length > 0) message.tool_calls = calls;
    if (role === 'tool') {
      const id = optionalString(msg.tool_call_id, `messages[${i}].tool_call_id`);
      const name = optionalString(msg.name, `messages[${i}].name`);
      if (id !== undefined) message.tool_call_id = id;
      if (name !== undefined) message.name = name;
    }
    out.push(message);
  });
  if (!out.some((m) => m.role === 'assistant')) throw new LineProblem('the conversation has no assistant turn, so there is nothing to train on');
  return out;
}

function parseTools(v: unknown): JsonValue[] {
  if (!Array.isArray(v)) throw new LineProblem(`field "tools" must be an array, found ${typeName(v)}`);
  if (v.length > MAX_TOOLS) throw new LineProblem(`field "tools" lists ${v.length} tools, more than the limit of ${MAX_TOOLS}`);
  return v.map((t: unknown, k) => {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) throw new LineProblem(`tools[${k}] must be an object, found ${typeName(t)}`);
    return shallowJson(t, `tools[${k}]`);
  });
}

/** The example a parsed JSONL value holds; throws LineProblem with the reason otherwise. */
export function exampleFromJson(value: unknown): Example {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LineProblem(`expected a JSON object, found ${typeName(value)}`);
  }
  const obj = value as Record<string, unknown>;
  if ('messages' in obj) {
    const messages = parseMessages(obj.messages);
    const tools = obj.tools === undefined || obj.tools === null ? [] : parseTools(obj.tools);
    return tools.length > 0 ? { kind: 'chat', messages, tools } : { kind: 'chat', messages };
  }
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
  return canonicalParts(example).join('');
}

/** The canonical string in pieces, so a long document is hashed without being copied. */
export function canonicalParts(example: Example): string[] {
  if (example.kind !== 'text') return [canonicalOther(example)];
  if (!example.lines) return ['t\u0000', example.text];
  return ['t\u0000', ...example.lines.flatMap((l, i) => (i === 0 ? [l] : ['\n', l]))];
}

function canonicalOther(example: Exclude<Example, { kind: 'text' }>): string {
  switch (example.kind) {
    case 'completion':
      return `p\u0000${example.prompt}\u0000${example.completion}`;
    case 'chat': {
      // Tool fields only when present, so chats without tools keep the identity they always had.
      const message = (m: ChatMessage) => {
        const { role, content, ...rest } = m;
        return `${role}\u0000${content}${Object.keys(rest).length > 0 ? `\u0000${JSON.stringify(rest)}` : ''}`;
      };
      const tools = example.tools ? `\u0002${JSON.stringify(example.tools)}` : '';
      return `c\u0000${example.messages.map(message).join('\u0001')}${tools}`;
    }
  }
}

/** Characters of content in an example (for stats before tokenization). */
export function exampleChars(example: Example): number {
  switch (example.kind) {
    case 'text':
      return example.lines ? example.lines.reduce((n, l) => n + l.length + 1, -1) : example.text.length;
    case 'completion':
      return example.prompt.length + example.completion.length;
    case 'chat':
      return example.messages.reduce((n, m) => n + m.content.length + (m.tool_calls ? JSON.stringify(m.tool_calls).length : 0), 0);
  }
}
