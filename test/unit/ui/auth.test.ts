import { describe, expect, it } from 'vitest';
import { authorize, tokenCookie, TOKEN_COOKIE } from '../../../src/ui/auth.js';

const TOKEN = 'a-token-of-24-characters';

describe('authorize', () => {
  it('allows everything when no token is configured', () => {
    expect(authorize(null, {})).toBe('allowed');
  });

  it('denies a request without the token, or with a wrong one', () => {
    expect(authorize(TOKEN, {})).toBe('denied');
    expect(authorize(TOKEN, { authorization: 'Bearer nope' })).toBe('denied');
    expect(authorize(TOKEN, { authorization: `Basic ${TOKEN}` })).toBe('denied');
    expect(authorize(TOKEN, { cookie: `${TOKEN_COOKIE}=nope` })).toBe('denied');
    expect(authorize(TOKEN, { queryToken: `${TOKEN}x` })).toBe('denied');
    expect(authorize(TOKEN, { cookie: `other=${TOKEN}` })).toBe('denied');
  });

  it('allows the token as a Bearer header or the cookie', () => {
    expect(authorize(TOKEN, { authorization: `Bearer ${TOKEN}` })).toBe('allowed');
    expect(authorize(TOKEN, { authorization: `bearer  ${TOKEN}` })).toBe('allowed');
    expect(authorize(TOKEN, { cookie: `a=b; ${TOKEN_COOKIE}=${TOKEN}; c=d` })).toBe('allowed');
  });

  it('allows ?token= and asks for the cookie to be set', () => {
    expect(authorize(TOKEN, { queryToken: TOKEN })).toBe('allowed-set-cookie');
    expect(tokenCookie(TOKEN)).toBe(`${TOKEN_COOKIE}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/`);
  });
});
