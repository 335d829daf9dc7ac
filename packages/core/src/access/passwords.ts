import type * as Argon2 from '@node-rs/argon2';

// Loaded on the first password hashed or checked: a native module that no start-up needs.
let argon2: Promise<typeof Argon2> | undefined;
const loadArgon2 = () => (argon2 ??= import('@node-rs/argon2'));

export const MIN_PASSWORD_LENGTH = 12;
/** Argon2 cost grows with input; a cap keeps a huge "password" from being a cheap DoS. */
export const MAX_PASSWORD_LENGTH = 1024;

/**
 * argon2id with the library's defaults, which are OWASP's recommendation (19 MiB, 2 passes,
 * 1 lane). The PHC string carries its parameters, so raising them later keeps old hashes valid.
 */
export async function hashPassword(password: string): Promise<string> {
  return (await loadArgon2()).hash(password);
}

/** False for a wrong password and for a malformed stored hash alike. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await (await loadArgon2()).verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the time a real verification takes when there is no user to check, so the
 * response time of a login does not tell whether an e-mail has an account.
 */
export async function verifyNobody(password: string): Promise<false> {
  dummyHash ??= hashPassword('rapport-no-such-user-placeholder');
  await verifyPassword(await dummyHash, password);
  return false;
}
