import { request, type Dispatcher } from 'undici';
import { CORE_VERSION } from '../version.js';
import { privateHostProblem } from './egress.js';
import type { EventMeta } from '../hooks/types.js';
import { signWebhookPayload, SIGNATURE_HEADER } from './signature.js';

/** The JSON body of every webhook request. */
export interface WebhookEventBody {
  id: string;
  name: string;
  occurredAt: string;
  tenantId: string;
  actor: { kind: string; id: string } | null;
  payload: unknown;
}

export function webhookBody(meta: EventMeta, payload: unknown): string {
  const body: WebhookEventBody = {
    id: meta.id,
    name: meta.name,
    occurredAt: meta.occurredAt,
    tenantId: meta.tenantId,
    actor: meta.actor ?? null,
    payload,
  };
  return JSON.stringify(body);
}

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  at: Date;
}

const MAX_ERROR_LENGTH = 500;

/** One POST to a receiver. Never throws: every failure is an outcome to record. */
export async function postWebhook(input: {
  url: string;
  secret: string;
  eventId: string;
  eventName: string;
  body: string;
  timeoutMs: number;
  /** The connection pool: `publicOnlyAgent()` unless private networks are allowed (then undici's default). */
  agent?: Dispatcher;
}): Promise<AttemptOutcome> {
  const at = new Date();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const refused = input.agent ? privateHostProblem(input.url) : undefined;
  if (refused) return { ok: false, statusCode: null, error: `not sent: ${refused} (dispatcher.allowPrivateNetworks)`, durationMs: 0, at };
  try {
    // undici's request, not fetch: a third of the client's cost per delivery (no WHATWG
    // Request, Headers and streams), and it never follows a redirect — a redirect is a
    // misconfigured URL, and following it would re-send the payload to an unknown host.
    const response = await request(input.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': `Rapport-Webhooks/${CORE_VERSION}`,
        'Rapport-Event': input.eventName,
        'Rapport-Event-Id': input.eventId,
        [SIGNATURE_HEADER]: signWebhookPayload({ secret: input.secret, body: input.body }),
      },
      body: input.body,
      signal: AbortSignal.timeout(input.timeoutMs),
      dispatcher: input.agent,
    });
    // Free the socket for the next request without keeping what may be a large body.
    await response.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return { ok, statusCode: response.statusCode, error: ok ? null : `HTTP ${response.statusCode}`, durationMs: elapsed(), at };
  } catch (error) {
    return { ok: false, statusCode: null, error: describeFailure(error, input.timeoutMs), durationMs: elapsed(), at };
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no response within ${timeoutMs} ms`;
  // A refused private address says which address (in its message), so the subscriber can tell what to fix.
  if (e?.code === 'EPRIVATEADDRESS' || e?.cause?.code === 'EPRIVATEADDRESS') return String(e.code ? e.message : e.cause?.message).slice(0, MAX_ERROR_LENGTH);
  const code = e?.code ?? e?.cause?.code;
  const message = `${e?.message ?? String(error)}${code && !e?.message?.includes(code) ? ` (${code})` : ''}`;
  return message.slice(0, MAX_ERROR_LENGTH);
}

/**
 * Delay before the next attempt after `failedAttempts` failures: base · 2^(n-1), with
 * ±20 % jitter so receivers that failed together are not retried in lockstep.
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
  const delay = baseMs * 2 ** exponent;
  return Math.round(delay * (0.8 + 0.4 * random()));
}
