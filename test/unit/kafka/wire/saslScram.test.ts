import { describe, expect, it } from 'vitest';
import { plainMessage, ScramClient } from '../../../../src/kafka/wire/saslScram.js';

describe('SCRAM client', () => {
  // The example exchange of RFC 7677, section 3 (SCRAM-SHA-256, user "user", password "pencil").
  const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';

  it('computes the client proof of RFC 7677 and accepts the server signature', () => {
    const scram = new ScramClient(
      { mechanism: 'scram-sha-256', username: 'user', password: 'pencil' },
      'rOprNGfwEbeRWgbNEkqO',
    );
    expect(scram.first().toString()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    expect(scram.final(Buffer.from(serverFirst)).toString()).toBe(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(() => scram.verify(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).not.toThrow();
  });

  it('rejects a forged server signature and reports a server error as an authentication failure', () => {
    const scram = new ScramClient(
      { mechanism: 'scram-sha-256', username: 'user', password: 'pencil' },
      'rOprNGfwEbeRWgbNEkqO',
    );
    scram.final(Buffer.from(serverFirst));
    expect(() => scram.verify(Buffer.from('v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='))).toThrow(
      /signature does not match/,
    );
    expect(() => scram.verify(Buffer.from('e=invalid-proof'))).toThrow(
      expect.objectContaining({ code: 'SASL_AUTHENTICATION_FAILED' }),
    );
  });

  it('refuses a server nonce that does not extend its own', () => {
    const scram = new ScramClient({ mechanism: 'scram-sha-512', username: 'user', password: 'pencil' }, 'abc');
    expect(() => scram.final(Buffer.from('r=xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'))).toThrow(/invalid server-first/);
  });

  it('escapes , and = in user names, and builds PLAIN messages', () => {
    expect(
      new ScramClient({ mechanism: 'scram-sha-512', username: 'a,b=c', password: 'p' }, 'n').first().toString(),
    ).toBe('n,,n=a=2Cb=3Dc,r=n');
    expect(plainMessage({ mechanism: 'plain', username: 'u', password: 'p' })).toEqual(Buffer.from('\0u\0p'));
  });
});
