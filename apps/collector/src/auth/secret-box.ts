import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Encryption at rest for small secrets (TOTP secrets), with the operator's 32-byte key
 * (HAVEN_SECRET_KEY or HAVEN_SECRET_KEY_FILE): AES-256-GCM, a fresh 96-bit nonce each time,
 * and the owning row's id as additional data, so a sealed value copied to another account
 * does not open. Stored as `v1:<nonce>:<tag>:<ciphertext>`, each base64url.
 */
const VERSION = 'v1';

export class SecretKeyError extends Error {
  override readonly name = 'SecretKeyError';
}

/** Whether a stored value is sealed (rather than a plain secret from before encryption). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(`${VERSION}:`);
}

/** A 32-byte key written as 64 hexadecimal digits or as base64 (`openssl rand -base64 32`). */
export function parseSecretKey(text: string): Buffer {
  const value = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : /^[A-Za-z0-9+/_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64') : null;
  if (!key || key.length !== 32) throw new SecretKeyError('must be 32 bytes, as 64 hexadecimal digits or base64 (make one with: openssl rand -base64 32)');
  return key;
}

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new SecretKeyError('an AES-256 key is 32 bytes');
  }

  seal(plain: string, owner: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(owner, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':');
  }

  /** The plain secret; throws SecretKeyError when it was sealed with another key or for another owner. */
  open(sealed: string, owner: string): string {
    const [version, nonce, tag, body] = sealed.split(':');
    if (version !== VERSION || !nonce || !tag || body === undefined) throw new SecretKeyError('not a sealed secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'));
      decipher.setAAD(Buffer.from(owner, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError('the secret does not open with this key (was HAVEN_SECRET_KEY changed?)');
    }
  }
}
