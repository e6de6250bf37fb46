// The request checks of `dynamics serve`: a per-process token on every API call and WebSocket,
// loopback hosts only unless remote access was asked for, and no cross-origin callers.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function newToken(): string {
  return randomBytes(24).toString('hex');
}

export function tokensEqual(expected: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * What `--allow-remote` on a non-loopback address exposes, in one sentence: the token is the only
 * lock, it travels unencrypted over plain HTTP, and it grants everything the UI can do, which
 * includes reading any file this user can read (imports and the file picker take paths here).
 */
export function remoteAccessWarning(host: string): string {
  return `warning: serving on ${host} without encryption: anyone who can reach this port and has the token (visible to anyone who can watch the network) can run training on this machine and read any file that this user can read; use --allow-remote only on a network you trust`;
}

/** The hostname of a Host header, without its port. */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}

/** The token of an HTTP call: `Authorization: Bearer …`, the only place an API call may carry it. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return undefined;
}

/** The token in a URL's query string: accepted for the WebSocket only (a browser cannot set its headers). */
export function queryToken(url: URL): string | undefined {
  return url.searchParams.get('token') ?? undefined;
}

/**
 * A request target (`req.url`) as a URL on this server, or undefined when it is not an
 * origin-form path: `*`, an absolute URL, or text the URL parser rejects. `//x` stays a path here
 * (resolved against a base it would name the host x).
 */
export function parseRequestTarget(target: string | undefined): URL | undefined {
  if (!target?.startsWith('/')) return undefined;
  try {
    return new URL(`http://localhost${target}`);
  } catch {
    return undefined;
  }
}

/**
 * Refuses requests that a browser on another site could make: a Host that is not ours (DNS
 * rebinding) or an Origin other than our own. Returns the reason, or undefined when acceptable.
 */
export function refuseForeign(req: IncomingMessage, allowRemote: boolean): string | undefined {
  const host = req.headers.host ?? '';
  if (!allowRemote && !isLoopbackHost(hostnameOf(host))) return `host ${JSON.stringify(host)} is not a loopback address`;
  const origin = req.headers.origin;
  if (origin && origin !== `http://${host}`) return `cross-origin requests are refused (origin ${origin})`;
  return undefined;
}
