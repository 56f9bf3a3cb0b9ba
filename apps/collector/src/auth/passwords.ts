import { hash, verify, type Algorithm } from '@node-rs/argon2';

/** OWASP's argon2id settings: 19 MiB, 2 passes, 1 lane. */
// Algorithm.Argon2id is 2; the enum is an ambient const enum, which isolated modules cannot read.
const OPTIONS = { algorithm: 2 as Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
export const MIN_PASSWORD_LENGTH = 12;

export async function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

/**
 * Checks a password against a stored hash. With no hash (no such user) it still spends the
 * time of one verification, so the answer's timing does not tell which e-mail addresses exist.
 */
export async function checkPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (!storedHash) {
    dummy ??= hash('not a real password', OPTIONS);
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}
