// Reading an API call's JSON body within limits: its size (Content-Length checked before reading,
// bytes counted while reading) and its shape (nesting depth and number of values, counted on the
// raw bytes as they arrive), so that no body can cost much memory or time before JSON.parse.
// The contract's inputs are small and shallow: arrays of at most a few hundred items, configs a
// few levels deep; an upload chunk is one long string.
import type { IncomingMessage } from 'node:http';

export interface BodyLimits {
  /** Bytes of the raw body. */
  maxBytes: number;
  /** Arrays and objects inside one another. */
  maxDepth: number;
  /** Array items and object members, all levels together. */
  maxValues: number;
}

export const BODY_LIMITS: BodyLimits = {
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxValues: 100_000,
};

/** A body refused before parsing: `status` is 413 for a limit, 400 for a broken stream. */
export class BodyError extends Error {
  override name = 'BodyError';
  constructor(readonly status: 400 | 413, message: string) {
    super(message);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

/**
 * Counts depth and values of JSON text chunk by chunk. The structural characters are ASCII and
 * never occur inside a UTF-8 multi-byte sequence, so bytes can be scanned without decoding.
 * It does not validate JSON (JSON.parse does, afterwards); it only bounds what parsing will build.
 */
export class JsonShapeGuard {
  private inString = false;
  private escaped = false;
  private depth = 0;
  private values = 0;

  constructor(private readonly limits: Pick<BodyLimits, 'maxDepth' | 'maxValues'>) {}

  /** Returns the limit a chunk breaks, in words, or undefined. */
  feed(chunk: Uint8Array): string | undefined {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) this.inString = false;
        continue;
      }
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++this.depth > this.limits.maxDepth) return `the request body nests arrays and objects more than ${this.limits.maxDepth} levels deep`;
        if (++this.values > this.limits.maxValues) return `the request body holds more than ${this.limits.maxValues} values`;
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) this.depth--;
      else if (c === COMMA && ++this.values > this.limits.maxValues) return `the request body holds more than ${this.limits.maxValues} values`;
    }
    return undefined;
  }
}

/**
 * Reads a request body as text within the limits. A refused body is still read to its end and
 * thrown away (never buffered), so the client can finish sending and read the 413.
 */
export function readJsonBody(req: IncomingMessage, limits: BodyLimits = BODY_LIMITS): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      req.resume();
      reject(new BodyError(413, `the request body is ${declared} bytes; at most ${limits.maxBytes} are accepted`));
      return;
    }
    const guard = new JsonShapeGuard(limits);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    let ended = false;
    const refuse = (err: BodyError) => {
      refused = true;
      chunks.length = 0;
      reject(err);
    };
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > limits.maxBytes) return refuse(new BodyError(413, `the request body is larger than ${limits.maxBytes} bytes`));
      const broken = guard.feed(c);
      if (broken) return refuse(new BodyError(413, broken));
      chunks.push(c);
    });
    req.on('end', () => {
      ended = true;
      if (!refused) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    const cutOff = () => {
      if (!refused && !ended) refuse(new BodyError(400, 'the request body was cut off'));
    };
    req.on('error', cutOff);
    req.on('close', cutOff);
  });
}
