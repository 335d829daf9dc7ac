import { randomInt } from 'node:crypto';

/** The smallest size a sealed value is padded to: ordinary answers and reviews all fit in it. */
export const SEALED_SIZE_FLOOR = 4096;

/**
 * Pads a JSON text before it is sealed, to 4 KiB or the next power of two above it, so the
 * length of a sealed value — readable beside the participation it was written with — says
 * at most which of a few size classes the answer is in. JSON text has no raw line break:
 * the first one ends the value.
 */
export function padForSealing(json: string): string {
  const bytes = Buffer.byteLength(json, 'utf8') + 1;
  let size = SEALED_SIZE_FLOOR;
  while (size < bytes) size *= 2;
  return `${json}\n${' '.repeat(size - bytes)}`;
}

export function unpadSealed(padded: string): string {
  const end = padded.indexOf('\n');
  return end === -1 ? padded : padded.slice(0, end);
}

/** A copy in uniformly random order (Fisher–Yates over a cryptographic source): no order of arrival survives. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
