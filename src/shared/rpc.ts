// The machinery that turns one contract object into typed clients, handler tables and wire
// messages. Pure TypeScript: used by main, preload, serve and the renderer alike.
import type { z } from 'zod';

/** One callable method: a zod schema for its input, and (as a phantom type) its output. */
export interface MethodSpec<I extends z.ZodType = z.ZodType, O = unknown> {
  readonly input: I;
  /** Never set at run time; carries the output type. */
  readonly output?: O;
}

/** `method(z.object({...})).returns<Out>()` declares a method of the contract. */
export function method<I extends z.ZodType>(input: I): { returns<O>(): MethodSpec<I, O> } {
  return { returns: <O>() => ({ input }) as MethodSpec<I, O> };
}

export type ServiceSpec = Record<string, MethodSpec>;
export type ContractSpec = Record<string, ServiceSpec>;

export type InputOf<M> = M extends MethodSpec<infer I, unknown> ? z.input<I> : never;
export type ParsedInputOf<M> = M extends MethodSpec<infer I, unknown> ? z.output<I> : never;
export type OutputOf<M> = M extends MethodSpec<z.ZodType, infer O> ? O : never;

/** A caller's view: every method is an async function; methods without input take no argument. */
export type Client<C extends ContractSpec> = {
  [S in keyof C]: {
    [M in keyof C[S]]: undefined extends InputOf<C[S][M]>
      ? (input?: InputOf<C[S][M]>) => Promise<OutputOf<C[S][M]>>
      : (input: InputOf<C[S][M]>) => Promise<OutputOf<C[S][M]>>;
  };
};

/** The implementer's view: one function per method, receiving the already-validated input. */
export type Handlers<C extends ContractSpec> = {
  [S in keyof C]: {
    [M in keyof C[S]]: (input: ParsedInputOf<C[S][M]>) => Promise<OutputOf<C[S][M]>> | OutputOf<C[S][M]>;
  };
};

/** Errors cross process and network boundaries as data, never as stack traces. */
export interface WireError {
  name: string;
  message: string;
}
export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** The wire name of a method, e.g. `system.info`. */
export type MethodName<C extends ContractSpec> = {
  [S in keyof C & string]: `${S}.${keyof C[S] & string}`;
}[keyof C & string];

export function methodNames<C extends ContractSpec>(contract: C): MethodName<C>[] {
  const names: string[] = [];
  for (const [service, methods] of Object.entries(contract)) {
    for (const m of Object.keys(methods)) names.push(`${service}.${m}`);
  }
  return names as MethodName<C>[];
}

/** Splits `service.method` and returns its spec, or undefined when the contract has no such method. */
export function lookupMethod(contract: ContractSpec, name: string): { service: string; method: string; spec: MethodSpec } | undefined {
  const dot = name.indexOf('.');
  if (dot <= 0) return undefined;
  const service = name.slice(0, dot);
  const m = name.slice(dot + 1);
  if (!Object.hasOwn(contract, service)) return undefined;
  const methods = contract[service]!;
  if (!Object.hasOwn(methods, m)) return undefined;
  return { service, method: m, spec: methods[m]! };
}

/** Builds a Client from one generic `call(name, input)` transport. */
export function buildClient<C extends ContractSpec>(
  contract: C,
  call: (name: string, input: unknown) => Promise<unknown>,
): Client<C> {
  const client: Record<string, Record<string, (input?: unknown) => Promise<unknown>>> = {};
  for (const [service, methods] of Object.entries(contract)) {
    const s: Record<string, (input?: unknown) => Promise<unknown>> = {};
    for (const m of Object.keys(methods)) s[m] = (input?: unknown) => call(`${service}.${m}`, input);
    client[service] = s;
  }
  return client as Client<C>;
}

/** A failure that is the user's or the caller's to fix; its message is shown as is. */
export class ApiError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw new ApiError(result.error.name, result.error.message);
}
