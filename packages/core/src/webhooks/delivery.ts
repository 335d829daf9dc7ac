import type * as Undici from 'undici';
import type { Dispatcher } from 'undici';
import { lazyModule } from '../util/lazy-module.js';

// Loaded with the first delivery: a system that sends no webhook never needs it.
const undici = lazyModule<typeof Undici>('undici');
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
// Of a receiver's answer only the status is kept; past this much body the socket is dropped instead of read on.
const MAX_RESPONSE_BYTES = 64 * 1024;
const USER_AGENT = `Rapport-Webhooks/${CORE_VERSION}`;

/** One POST to a receiver. Never throws: every failure is an outcome to record. */
export function postWebhook(input: {
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
  if (refused) return Promise.resolve({ ok: false, statusCode: null, error: `not sent: ${refused} (dispatcher.allowPrivateNetworks)`, durationMs: 0, at });
  let url: URL;
  try {
    url = new URL(input.url);
  } catch (error) {
    return Promise.resolve({ ok: false, statusCode: null, error: describeFailure(error, input.timeoutMs), durationMs: 0, at });
  }
  // undici's dispatch with a handler of our own, not request() or fetch: no response stream,
  // promise chain or AbortSignal per delivery (AbortSignal.timeout's timer cannot be cleared,
  // so each one fired 10 s after its request), which was most of the client's cost per
  // delivery. Like request(), it never follows a redirect — a redirect is a misconfigured URL,
  // and following it would re-send the payload to an unknown host.
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    let statusCode: number | null = null;
    let bodyBytes = 0;
    let abort: ((error?: Error) => void) | undefined;
    const settle = (outcome: Omit<AttemptOutcome, 'durationMs' | 'at'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, durationMs: elapsed(), at });
    };
    const answered = () => {
      const ok = statusCode !== null && statusCode >= 200 && statusCode < 300;
      settle({ ok, statusCode, error: ok ? null : `HTTP ${statusCode}` });
    };
    const timer = setTimeout(() => {
      settle({ ok: false, statusCode: null, error: `no response within ${input.timeoutMs} ms` });
      abort?.(new Error('webhook request timed out'));
    }, input.timeoutMs);
    const handler: Dispatcher.DispatchHandler = {
      onConnect(abortRequest) {
        abort = abortRequest;
        // Timed out while waiting for a connection of the pool: never send it.
        if (settled) abortRequest(new Error('webhook request timed out'));
      },
      onHeaders(code) {
        statusCode = code;
        return true;
      },
      onData(chunk) {
        bodyBytes += chunk.length;
        // The status is all we keep: settle on it and free ourselves of a large body.
        if (bodyBytes > MAX_RESPONSE_BYTES) {
          answered();
          abort?.(new Error('webhook response body too large'));
        }
        return true;
      },
      onComplete: answered,
      onError(error) {
        settle({ ok: false, statusCode: null, error: describeFailure(error, input.timeoutMs) });
      },
    };
    try {
      (input.agent ?? undici().getGlobalDispatcher()).dispatch(
        {
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            'User-Agent': USER_AGENT,
            'Rapport-Event': input.eventName,
            'Rapport-Event-Id': input.eventId,
            [SIGNATURE_HEADER]: signWebhookPayload({ secret: input.secret, body: input.body }),
          },
          body: input.body,
        },
        handler,
      );
    } catch (error) {
      handler.onError?.(error as Error);
    }
  });
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
