import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Enrollment tokens and device secrets are long random strings, so a single SHA-256 is a
 * sufficient one-way store (no password stretching is needed for 192+ bits of entropy).
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `hvn_enr_…`: 24 random bytes, URL-safe. */
export function newEnrollmentToken(): string {
  return `hvn_enr_${randomBytes(24).toString('base64url')}`;
}

/** `hvn_dev_…`: 32 random bytes, URL-safe. */
export function newDeviceSecret(): string {
  return `hvn_dev_${randomBytes(32).toString('base64url')}`;
}
