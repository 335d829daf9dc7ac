import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7, validate, version } from 'uuid';

// Random bytes for 4,096 ids per refill: `uuid` draws 256 bytes at a time, and at a bulk
// import's three ids a row the refills cost more than the rest of the id.
const pool = Buffer.allocUnsafe(16 * 4096);
let next = pool.length;
// Ids made in the same millisecond count up from a random start, as `uuid` itself does
// (RFC 9562's method 1), so they stay in the order they were made.
let lastMs = -1;
let seq = 0;

// Reused for every id: only the id's string is allocated (a bulk import makes three a row).
const options = { random: Buffer.alloc(16), msecs: 0, seq: 0 };
const bytes = Buffer.alloc(16);
const text = Buffer.alloc(36, '-');
const HEX = Buffer.from('0123456789abcdef', 'latin1');
// A dash follows bytes 3, 5, 7 and 9.
const DASH_AFTER = (1 << 3) | (1 << 5) | (1 << 7) | (1 << 9);

/** Time-ordered ids (UUIDv7) keep B-tree inserts at the right edge of the index. */
export function newId(): string {
  if (next === pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  pool.copy(options.random, 0, next, (next += 16));
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    seq = options.random.readUInt32BE(6) & 0x7fffffff;
  } else {
    seq = (seq + 1) | 0;
    // 2^31 ids in one millisecond: borrow the next one.
    if (seq === 0) lastMs++;
  }
  options.msecs = lastMs;
  options.seq = seq;
  uuidv7(options, bytes);
  // The canonical 8-4-4-4-12 lower-case form, written as one string.
  for (let i = 0, at = 0; i < 16; i++) {
    text[at++] = HEX[bytes[i] >> 4];
    text[at++] = HEX[bytes[i] & 15];
    if ((DASH_AFTER >> i) & 1) at++;
  }
  return text.toString('latin1', 0, 36);
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && validate(value);
}

export { version as uuidVersion };
