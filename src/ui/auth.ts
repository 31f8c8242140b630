/**
 * The token check of both web pages (ui.auth_token). A request is allowed when it carries the token
 * as `Authorization: Bearer <token>`, as the `sdp_token` cookie, or as `?token=<token>` (the way a
 * person opens the page in a browser; the answer then sets the cookie so that the page's own
 * requests carry it). Without a configured token every request is allowed (loopback only, which
 * the config schema enforces).
 */
import { timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'sdp_token';

export type AuthDecision = 'allowed' | 'allowed-set-cookie' | 'denied';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(cookieHeader: string | undefined, name: string): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function authorize(
  token: string | null,
  request: { authorization?: string; cookie?: string; queryToken?: string | null },
): AuthDecision {
  if (token === null) return 'allowed';
  const bearer = /^Bearer\s+(.+)$/i.exec(request.authorization ?? '')?.[1]?.trim();
  if (bearer !== undefined && same(bearer, token)) return 'allowed';
  const cookie = cookieValue(request.cookie, TOKEN_COOKIE);
  if (cookie !== undefined && same(cookie, token)) return 'allowed';
  if (request.queryToken && same(request.queryToken, token)) return 'allowed-set-cookie';
  return 'denied';
}

/** The Set-Cookie header for a token given in the URL: not readable by scripts, sent to this site only. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}
