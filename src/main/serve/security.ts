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

/** The hostname of a Host header, without its port. */
export function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  return hostHeader.split(':')[0] ?? '';
}

/** The token of a request: `Authorization: Bearer …` for HTTP calls, `?token=` for WebSockets. */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return url.searchParams.get('token') ?? undefined;
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
