import { createCipheriv, createDecipheriv, createHash, randomBytes, createHmac } from 'node:crypto';

/** Prefix of a sealed value: format version 1, then the key id, then base64url(iv | ciphertext | tag). */
const PREFIX = 'rsb1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const SECRET_KEY_BYTES = 32;

/** A sealed value that cannot be opened: unknown key id, wrong key, or tampered data. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * Parses a 32-byte key given as hex (64 characters) or base64/base64url (44/43 characters).
 * `setting` names where it came from, for the error.
 */
export function parseSecretKey(text: string, setting: string): Buffer {
  const value = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) key = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) key = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== SECRET_KEY_BYTES) {
    throw new Error(`${setting} must be ${SECRET_KEY_BYTES} random bytes written as 64 hex characters or 44 base64 characters (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}

/** A short public name for a key (8 hex digits of its sha256), stored with each value it seals. */
export function secretKeyId(key: Buffer): string {
  return createHash('sha256').update('rapport-secret-key-id').update(key).digest('hex').slice(0, 8);
}

export function generateSecretKey(): Buffer {
  return randomBytes(SECRET_KEY_BYTES);
}

/**
 * AES-256-GCM for small secrets the server must read back (it cannot hash them). Seals
 * under the current key; opens anything sealed under the current or a previous key, so keys
 * rotate without downtime. The key id in each value says which key to use.
 */
export class SecretBox {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: Buffer, previous: Buffer[] = []) {
    if (current.length !== SECRET_KEY_BYTES) throw new Error(`a secret key has ${SECRET_KEY_BYTES} bytes, not ${current.length}`);
    this.currentKeyId = secretKeyId(current);
    this.keys.set(this.currentKeyId, current);
    for (const key of previous) {
      if (key.length !== SECRET_KEY_BYTES) throw new Error(`a secret key has ${SECRET_KEY_BYTES} bytes, not ${key.length}`);
      if (!this.keys.has(secretKeyId(key))) this.keys.set(secretKeyId(key), key);
    }
  }

  /** A key for one purpose (`idempotency`), derived from the current key: HMAC-SHA256(key, purpose). */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.keys.get(this.currentKeyId)!).update(`rapport:${purpose}`).digest();
  }

  static isSealed(value: string): boolean {
    return value.startsWith(`${PREFIX}:`);
  }

  /** The key id a sealed value names, or null for a value that is not sealed. */
  static keyIdOf(value: string): string | null {
    if (!SecretBox.isSealed(value)) return null;
    return value.split(':')[1] ?? null;
  }

  /** `context` (e.g. the record's id) is bound to the ciphertext: a value copied onto another record does not open. */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}:${this.currentKeyId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const [prefix, keyId, data, ...rest] = sealed.split(':');
    if (prefix !== PREFIX || !keyId || data === undefined || rest.length) throw new SecretBoxError('the value is not a sealed secret');
    const key = this.keys.get(keyId);
    if (!key) {
      throw new SecretBoxError(`the secret is encrypted with key ${keyId}, which is not configured (current key: ${this.currentKeyId}); set it in previousSecretKeys / RAPPORT_PREVIOUS_SECRET_KEYS`);
    }
    const bytes = Buffer.from(data, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretBoxError('the sealed secret is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`the secret does not decrypt with key ${keyId}: the key is wrong or the stored value was altered`);
    }
  }
}
