/**
 * The client side of SASL/SCRAM (RFC 5802, RFC 7677) and SASL/PLAIN, for the bare wire-protocol
 * probes (wireProtocol.ts); kafkajs has its own. Pure: messages in, messages out.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SaslCredentials } from '../security.js';

type Digest = 'sha256' | 'sha512';

const DIGEST: Record<'scram-sha-256' | 'scram-sha-512', { digest: Digest; length: number }> = {
  'scram-sha-256': { digest: 'sha256', length: 32 },
  'scram-sha-512': { digest: 'sha512', length: 64 },
};

/** The mechanism name Kafka's SaslHandshake expects. */
export function kafkaMechanismName(mechanism: SaslCredentials['mechanism']): string {
  return mechanism.toUpperCase();
}

/** `,` and `=` are escaped in a SCRAM user name (RFC 5802, 5.1). */
function saslName(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function attributes(message: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) map.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return map;
}

export function plainMessage(credentials: SaslCredentials): Buffer {
  return Buffer.from(`\u0000${credentials.username}\u0000${credentials.password}`, 'utf8');
}

/** One SCRAM exchange: `first()`, then `final(serverFirst)`, then `verify(serverFinal)`. */
export class ScramClient {
  private readonly nonce: string;
  private readonly firstBare: string;
  private authMessage = '';
  private saltedPassword: Buffer = Buffer.alloc(0);

  constructor(
    private readonly credentials: SaslCredentials & { mechanism: 'scram-sha-256' | 'scram-sha-512' },
    nonce = randomBytes(24).toString('base64'),
  ) {
    this.nonce = nonce;
    this.firstBare = `n=${saslName(credentials.username)},r=${nonce}`;
  }

  first(): Buffer {
    return Buffer.from(`n,,${this.firstBare}`, 'utf8');
  }

  private hmac(key: Buffer, text: string): Buffer {
    return createHmac(DIGEST[this.credentials.mechanism].digest, key).update(text, 'utf8').digest();
  }

  final(serverFirst: Buffer): Buffer {
    const text = serverFirst.toString('utf8');
    const attrs = attributes(text);
    const serverNonce = attrs.get('r') ?? '';
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    const iterations = Number(attrs.get('i'));
    if (attrs.has('e'))
      throw Object.assign(new Error(`SASL SCRAM authentication failed: ${attrs.get('e') ?? ''}`), {
        code: 'SASL_AUTHENTICATION_FAILED',
      });
    if (!serverNonce.startsWith(this.nonce) || salt.length === 0 || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error('SASL SCRAM: the broker sent an invalid server-first message');
    }
    const { digest, length } = DIGEST[this.credentials.mechanism];
    this.saltedPassword = pbkdf2Sync(this.credentials.password.normalize('NFKC'), salt, iterations, length, digest);
    const clientKey = this.hmac(this.saltedPassword, 'Client Key');
    const storedKey = createHash(digest).update(clientKey).digest();
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${serverNonce}`;
    this.authMessage = `${this.firstBare},${text},${withoutProof}`;
    const signature = this.hmac(storedKey, this.authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = (clientKey[i] ?? 0) ^ (signature[i] ?? 0);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the broker's signature: a broker that does not know the password cannot forge it. */
  verify(serverFinal: Buffer): void {
    const attrs = attributes(serverFinal.toString('utf8'));
    if (attrs.has('e'))
      throw Object.assign(new Error(`SASL SCRAM authentication failed: ${attrs.get('e') ?? ''}`), {
        code: 'SASL_AUTHENTICATION_FAILED',
      });
    const expected = this.hmac(this.hmac(this.saltedPassword, 'Server Key'), this.authMessage);
    const got = Buffer.from(attrs.get('v') ?? '', 'base64');
    if (got.length !== expected.length || !timingSafeEqual(got, expected))
      throw new Error("SASL SCRAM: the broker's signature does not match");
  }
}
