// Chat templates rendered with @huggingface/jinja in a sandbox. The interpreter never evaluates
// JavaScript and resolves attributes only through its own builtin tables; on top of that we give
// the template nothing but the messages, bos/eos tokens and add_generation_prompt, refuse
// attribute names that probe for internals (`__class__`, `constructor`…), and meter every
// evaluation step, every string and list it builds, and the output size.
//
// Some builtins cost far more than one step, and V8 gives up on a few of them by aborting the whole
// process rather than throwing ("invalid size" when a regular expression's match list outgrows a
// FixedArray; heap exhaustion when a split builds tens of millions of strings). Metering after the
// fact cannot stop those, so the operations that turn one string into many values (str.replace,
// str.split, slicing, and the indent, join and list filters) are charged before they run, from
// counts taken on the input: a template cannot reach those limits, and fails in words instead.
//
// Why a step budget rather than a worker thread with a timer: the verdict is deterministic (the
// same template fails on every machine, however loaded), so a token cache built on a fast machine
// matches one built on a slow one, and rendering costs no thread hop per conversation. A wall-clock
// deadline still backs the budget up.
import { createHash } from 'node:crypto';
import { Environment, Interpreter, parse, tokenize } from '@huggingface/jinja';
import { UserError } from '../../shared/errors';
import type { ChatMessage, JsonValue } from './formats';

type Statement = NonNullable<Parameters<Interpreter['evaluate']>[0]>;
type RuntimeValue = ReturnType<Interpreter['evaluate']>;
type Program = Parameters<Interpreter['run']>[0];

export interface TemplateLimits {
  /**
   * Evaluation steps per render. A ChatML render costs about 16 steps per message and the
   * interpreter runs roughly 200k steps/s on a slow laptop core, so the default allows 1,024-message
   * chats under templates several times more elaborate, and stops a loop within seconds.
   */
  maxSteps: number;
  /** Characters of the rendered output. */
  maxOutputChars: number;
  /** Characters of all strings built during one render (bounds memory churn). */
  maxStringChars: number;
  /**
   * Elements of all lists built during one render, `range()` included, and the pieces a replace
   * or split makes (charged before they are built).
   */
  maxListItems: number;
  /** Wall-clock backstop per render, in ms. */
  maxMillis: number;
}

export const DEFAULT_TEMPLATE_LIMITS: TemplateLimits = {
  maxSteps: 500_000,
  maxOutputChars: 32 << 20,
  maxStringChars: 512 << 20,
  maxListItems: 2 << 20,
  maxMillis: 10_000,
};

/** Bumped when the sandbox changes what a template sees, so cached renders are not reused. */
const SANDBOX_VERSION = 2;

/** A render that failed because of this conversation (raise_exception, a missing field…): skip the line. */
export class TemplateRenderError extends UserError {
  override name = 'TemplateRenderError';
}

/** The template itself is at fault (it loops, explodes, or reaches outside): stop the whole import. */
export class TemplateFatalError extends UserError {
  override name = 'TemplateFatalError';
}

/** Attribute names that only make sense as probes for the host language's internals. */
function forbiddenAttribute(name: string): boolean {
  return name.startsWith('_') || name === 'constructor' || name === 'prototype' || name === 'mro' || name === 'func_globals';
}

interface MemberNode {
  computed: boolean;
  property: { type: string; value?: unknown };
}

/** Largest `tojson(indent=N)` allowed: the filter repeats the indent per level in one step. */
const MAX_JSON_INDENT = 32;

/** Our own node, evaluated by MeteredInterpreter only: the `indent` argument of `tojson`, checked. */
interface IndentGuard {
  type: 'IndentGuard';
  inner: Statement;
}

type AstNode = { type?: unknown } & Record<string, unknown>;

/** Our own node: the object of `.replace`/`.split` (or of a computed member), checked when it is a string. */
interface StringGuard {
  type: 'StringGuard';
  inner: Statement;
}

/** Our own node: the object of a slice (a string slice splits it into characters first). */
interface SliceGuard {
  type: 'SliceGuard';
  inner: Statement;
}

/** String methods that build one value per match or piece. */
const SPLITTING_METHODS = new Set(['replace', 'split']);

/** Filters that split a string operand into lines or characters before building their result. */
const SPLITTING_FILTERS = new Set(['indent', 'join', 'list', 'unique', 'batch', 'slice', 'wordwrap']);

/** The filter name of a FilterExpression's or FilterStatement's filter node. */
function filterName(filter: unknown): string | undefined {
  const f = filter as AstNode | undefined;
  if (f?.type === 'Identifier') return f.value as string;
  if (f?.type === 'CallExpression') {
    const callee = f.callee as AstNode | undefined;
    if (callee?.type === 'Identifier') return callee.value as string;
  }
  return undefined;
}

/** Occurrences of `needle` in `text` (non-overlapping, as replace counts them), without allocating. */
function occurrences(text: string, needle: string, atMost: number): number {
  if (needle.length === 0) return text.length + 1;
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1 && n <= atMost; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/**
 * Prepares a parsed template for metering: every loop body gets a no-op first statement so each
 * iteration costs a step (an empty body would otherwise spin for free), and every `tojson`
 * indent is wrapped in a guard.
 */
function instrument(node: unknown, seen = new Set<unknown>()): void {
  if (typeof node !== 'object' || node === null || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) {
    for (const child of node) instrument(child, seen);
    return;
  }
  const n = node as AstNode;
  for (const value of Object.values(n)) instrument(value, seen);
  if (n.type === 'For' && Array.isArray(n.body)) (n.body as unknown[]).unshift({ type: 'Comment', value: '' });
  if (n.type === 'MemberExpression') {
    const prop = n.property as AstNode;
    const named = (!n.computed && prop.type === 'Identifier') || (n.computed && prop.type === 'StringLiteral');
    if (n.computed && prop.type === 'SliceExpression') n.object = { type: 'SliceGuard', inner: n.object as Statement } satisfies SliceGuard;
    // A computed name (`s[name]`) may be 'replace' at run time: guard every non-literal one too.
    else if (named ? SPLITTING_METHODS.has(prop.value as string) : n.computed && prop.type !== 'IntegerLiteral') {
      n.object = { type: 'StringGuard', inner: n.object as Statement } satisfies StringGuard;
    }
  }
  if (n.type === 'CallExpression') {
    const callee = n.callee as AstNode | undefined;
    if (callee?.type === 'Identifier' && callee.value === 'tojson' && Array.isArray(n.args)) {
      for (const arg of n.args as AstNode[]) {
        if (arg.type === 'KeywordArgumentExpression' && (arg.key as AstNode | undefined)?.value === 'indent') {
          arg.value = { type: 'IndentGuard', inner: arg.value as Statement } satisfies IndentGuard;
        }
      }
    }
  }
}

/** An interpreter that charges every evaluation against the limits. */
class MeteredInterpreter extends Interpreter {
  private steps = 0;
  private stringChars = 0;
  private listItems = 0;
  private readonly deadline: number;
  /** Strings whose replace and split already charge before building. */
  private readonly guarded = new WeakSet<object>();

  constructor(
    env: Environment,
    private readonly limits: TemplateLimits,
    private readonly origin: string,
  ) {
    super(env);
    this.deadline = Date.now() + limits.maxMillis;
  }

  chargeList(n: number): void {
    this.listItems += n;
    if (this.listItems > this.limits.maxListItems) throw this.fatal(`built lists of more than ${this.limits.maxListItems} items in one render`);
  }

  /** Charges the pieces a string operation will build, before it builds them. */
  chargePieces(n: number, what: string): void {
    this.listItems += n;
    if (this.listItems > this.limits.maxListItems) throw this.fatal(`${what}, past the limit of ${this.limits.maxListItems} pieces in one render`);
  }

  /** Makes a string's replace and split charge their result before building it. */
  private guardString(value: RuntimeValue): void {
    if (value.type !== 'StringValue' || this.guarded.has(value)) return;
    this.guarded.add(value);
    const text = value.value as string;
    const builtins = value.builtins as Map<string, RuntimeValue>;
    const wrap = (name: string, check: (args: RuntimeValue[]) => void) => {
      const fn = builtins.get(name) as (RuntimeValue & { value: (args: RuntimeValue[], env: Environment) => RuntimeValue }) | undefined;
      if (!fn || typeof fn.value !== 'function') return;
      const original = fn.value;
      fn.value = (args, env) => {
        check(args);
        return original(args, env);
      };
    };
    wrap('replace', (args) => {
      const [oldValue, newValue, third] = args;
      if (oldValue?.type !== 'StringValue' || newValue?.type !== 'StringValue') return;
      const countArg = third?.type === 'KeywordArgumentsValue' ? (third.value as Map<string, RuntimeValue>).get('count') : third;
      const limit = countArg?.type === 'IntegerValue' && (countArg.value as number) >= 0 ? (countArg.value as number) : Infinity;
      const old = oldValue.value as string;
      const replacement = newValue.value as string;
      const n = Math.min(limit, occurrences(text, old, this.limits.maxListItems));
      this.chargePieces(n, `would replace ${n > this.limits.maxListItems ? `more than ${this.limits.maxListItems}` : n} matches in a string of ${text.length} characters`);
      const length = text.length + n * (replacement.length - old.length);
      this.stringChars += Math.max(0, length);
      if (this.stringChars > this.limits.maxStringChars) throw this.fatal(`would build a string of ${length} characters with replace, past the limit of ${this.limits.maxStringChars} characters of strings in one render`);
    });
    wrap('split', (args) => {
      const sep = args[0];
      const n = sep?.type === 'StringValue' ? occurrences(text, sep.value as string, this.limits.maxListItems) + 1 : Math.ceil(text.length / 2) + 1;
      this.chargePieces(n, `would split a string of ${text.length} characters into up to ${n} pieces`);
    });
  }

  fatal(what: string): TemplateFatalError {
    return new TemplateFatalError(`the chat template of ${this.origin} ${what}; it probably loops or is hostile, so it was stopped`);
  }

  override evaluate(statement: Statement | undefined, environment: Environment): RuntimeValue {
    if (++this.steps > this.limits.maxSteps) throw this.fatal(`did not finish within ${this.limits.maxSteps} evaluation steps`);
    if ((this.steps & 63) === 0 && Date.now() > this.deadline) throw this.fatal(`did not finish within ${this.limits.maxMillis} ms`);
    const type = statement?.type as string | undefined;
    if (type === 'StringGuard') {
      const value = this.evaluate((statement as unknown as StringGuard).inner, environment);
      this.guardString(value);
      return value;
    }
    if (type === 'SliceGuard') {
      const value = this.evaluate((statement as unknown as SliceGuard).inner, environment);
      if (value.type === 'StringValue') this.chargePieces((value.value as string).length, `would slice a string of ${(value.value as string).length} characters into its characters`);
      return value;
    }
    if (type === 'FilterExpression' || type === 'FilterStatement') return this.evaluateFilter(statement as unknown as AstNode, environment);
    if (type === 'IndentGuard') {
      const indent = this.evaluate((statement as unknown as IndentGuard).inner, environment);
      if (typeof indent.value === 'number' && indent.value > MAX_JSON_INDENT) {
        throw new TemplateRenderError(`the chat template asks tojson for an indent of ${indent.value}, more than the limit of ${MAX_JSON_INDENT}`);
      }
      return indent;
    }
    if (statement?.type === 'MemberExpression') {
      const node = statement as unknown as MemberNode;
      const prop = node.property;
      if ((!node.computed && prop.type === 'Identifier') || (node.computed && prop.type === 'StringLiteral')) {
        if (typeof prop.value === 'string' && forbiddenAttribute(prop.value)) {
          throw new TemplateFatalError(`the chat template of ${this.origin} tries to read the attribute "${prop.value}", which is outside its sandbox`);
        }
      }
    }
    const value = super.evaluate(statement, environment);
    return this.charge(value);
  }

  /** FilterExpression and `{% filter %}` blocks: the operand computed, charged, then filtered. */
  private evaluateFilter(node: AstNode, environment: Environment): RuntimeValue {
    const operand = node.type === 'FilterStatement'
      ? this.evaluate({ type: 'Program', body: node.body } as unknown as Statement, environment)
      : this.evaluate(node.operand as Statement, environment);
    const name = filterName(node.filter);
    if (operand.type === 'StringValue') {
      const text = operand.value as string;
      if (name !== undefined && SPLITTING_FILTERS.has(name)) this.chargePieces(text.length + 1, `would apply ${name} to a string of ${text.length} characters, one piece per line or character`);
      if (name === 'replace') this.guardString(operand);
    }
    return this.charge((this as unknown as FilterApplier).applyFilter(operand, node.filter, environment));
  }

  private charge(value: RuntimeValue): RuntimeValue {
    if (value.type === 'StringValue') {
      this.stringChars += (value.value as string).length;
      if (this.stringChars > this.limits.maxStringChars) throw this.fatal(`built more than ${this.limits.maxStringChars} characters of strings in one render`);
    } else if (value.type === 'ArrayValue' || value.type === 'TupleValue') {
      this.chargeList((value.value as unknown[]).length);
    }
    return value;
  }
}

// The interpreter's own filter application, private in its typings: filters are evaluated here so
// that a string operand is charged (or guarded) between being computed and being filtered.
interface FilterApplier {
  applyFilter(operand: RuntimeValue, filter: unknown, environment: Environment): RuntimeValue;
}

export interface RenderOptions {
  addGenerationPrompt: boolean;
  /** The conversation's tool list, when it has one (templates describe the tools in the system turn). */
  tools?: readonly JsonValue[];
}

export class ChatTemplate {
  readonly hash: string;
  private readonly program: Program;

  /** Parses `source`; a template that does not parse is a UserError naming `origin`. */
  constructor(
    readonly source: string,
    private readonly origin: string,
    private readonly tokens: { bos: string | null; eos: string },
    private readonly limits: TemplateLimits = DEFAULT_TEMPLATE_LIMITS,
  ) {
    try {
      this.program = parse(tokenize(source, { lstrip_blocks: true, trim_blocks: true }));
      instrument(this.program);
    } catch (err) {
      throw new UserError(`the chat template of ${origin} does not parse: ${(err as Error).message}`);
    }
    this.hash = createHash('sha256')
      .update(JSON.stringify({ v: SANDBOX_VERSION, source, bos: tokens.bos, eos: tokens.eos }))
      .digest('hex');
  }

  /** Renders a conversation. Throws TemplateRenderError (skip this conversation) or TemplateFatalError (stop). */
  render(messages: readonly ChatMessage[], options: RenderOptions): string {
    const env = new Environment();
    let interpreter: MeteredInterpreter | null = null;
    const cappedRange = (start: number, stop?: number, step = 1): number[] => {
      if (stop === undefined) [start, stop] = [0, start];
      if (typeof start !== 'number' || typeof stop !== 'number' || typeof step !== 'number') throw new TemplateRenderError('range() takes numbers');
      if (step === 0) throw new TemplateRenderError('range() step must not be zero');
      const n = Math.max(0, Math.ceil((stop - start) / step));
      interpreter?.chargeList(n);
      const out: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = start + i * step;
      return out;
    };
    // Only what a chat template is documented to use; no clock, no files, no host objects.
    const globals: Record<string, unknown> = {
      true: true, false: false, none: null, True: true, False: false, None: null,
      range: cappedRange,
      raise_exception: (message: unknown) => {
        throw new TemplateRenderError(`the chat template refused the conversation: ${String(message)}`);
      },
      messages: messages.map((m) => ({ ...m })),
      ...(options.tools && options.tools.length > 0 ? { tools: options.tools } : {}),
      bos_token: this.tokens.bos ?? '',
      eos_token: this.tokens.eos,
      add_generation_prompt: options.addGenerationPrompt,
    };
    for (const [k, v] of Object.entries(globals)) env.set(k, v);
    interpreter = new MeteredInterpreter(env, this.limits, this.origin);
    let out: RuntimeValue;
    try {
      out = interpreter.run(this.program);
    } catch (err) {
      if (err instanceof TemplateFatalError || err instanceof TemplateRenderError) throw err;
      // Stack overflow, or a string/list past V8's own limits: the template, not the data, is at fault.
      if (err instanceof RangeError) throw interpreter.fatal(/call stack/i.test(err.message) ? 'recursed too deeply' : `failed with "${err.message}"`);
      throw new TemplateRenderError(`the chat template failed on this conversation: ${(err as Error).message ?? String(err)}`);
    }
    const text = out.value;
    if (typeof text !== 'string') throw new TemplateRenderError('the chat template did not produce text');
    if (text.length > this.limits.maxOutputChars) {
      throw new TemplateRenderError(`the chat template produced ${text.length} characters, more than the limit of ${this.limits.maxOutputChars}`);
    }
    return text;
  }
}
