import { fetch, type Dispatcher } from 'undici';
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
    const response = await fetch(input.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': `Rapport-Webhooks/${CORE_VERSION}`,
        'Rapport-Event': input.eventName,
        'Rapport-Event-Id': input.eventId,
        [SIGNATURE_HEADER]: signWebhookPayload({ secret: input.secret, body: input.body }),
      },
      body: input.body,
      // A redirect is a misconfigured URL; following it would re-send the payload to an unknown host.
      redirect: 'manual',
      signal: AbortSignal.timeout(input.timeoutMs),
      dispatcher: input.agent,
    });
    // Free the socket without reading what may be a large body.
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { ok, statusCode: response.status, error: ok ? null : `HTTP ${response.status}`, durationMs: elapsed(), at };
  } catch (error) {
    return { ok: false, statusCode: null, error: describeFailure(error, input.timeoutMs), durationMs: elapsed(), at };
  }
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no response within ${timeoutMs} ms`;
  // A refused private address says which address, so the subscriber can tell what to fix.
  const cause = e?.cause?.code === 'EPRIVATEADDRESS' ? e.cause.message : (e?.cause?.code ?? e?.cause?.message);
  const message = `${e?.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
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
