import { createHmac, timingSafeEqual } from 'node:crypto';

/*
 * `Rapport-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * Signing the timestamp with the body lets a receiver refuse replays of old requests; the
 * scheme is Stripe's, so receivers may already know it.
 */

export const SIGNATURE_HEADER = 'Rapport-Signature';
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

export type WebhookBody = string | Buffer | Uint8Array;

export interface SignWebhookPayloadInput {
  /** The subscription's secret (`whsec_…`), used whole as the HMAC key. */
  secret: string;
  /** The exact bytes sent (or received). */
  body: WebhookBody;
  /** Unix seconds; now by default. */
  timestamp?: number;
}

/** The `Rapport-Signature` header value for a body. */
export function signWebhookPayload({ secret, body, timestamp = Math.floor(Date.now() / 1000) }: SignWebhookPayloadInput): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export interface VerifyWebhookSignatureInput {
  secret: string;
  /** The `Rapport-Signature` header as received. */
  header: string | null | undefined;
  /** The raw request body, before any JSON parsing. */
  body: WebhookBody;
  /** How far the timestamp may be from now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** The receiver's clock, as a Date or milliseconds since the epoch (tests). */
  now?: Date | number;
}

/**
 * True when the header carries a valid signature of `body` under `secret` and its
 * timestamp lies within `toleranceSeconds` of now. Compares in constant time.
 */
export function verifyWebhookSignature({ secret, header, body, toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS, now = Date.now() }: VerifyWebhookSignatureInput): boolean {
  const parsed = parseSignatureHeader(header);
  if (!parsed) return false;
  const nowSeconds = (now instanceof Date ? now.getTime() : now) / 1000;
  if (!(Math.abs(nowSeconds - parsed.timestamp) <= toleranceSeconds)) return false;
  const expected = Buffer.from(hmacHex(secret, parsed.timestamp, body), 'hex');
  let ok = false;
  // Check every v1 (there is one today) without an early return, so timing reveals nothing.
  for (const candidate of parsed.signatures) {
    const given = Buffer.from(candidate, 'hex');
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}

function parseSignatureHeader(header: string | null | undefined): { timestamp: number; signatures: string[] } | undefined {
  if (!header || header.length > 1000) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}

function hmacHex(secret: string, timestamp: number, body: WebhookBody): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}
