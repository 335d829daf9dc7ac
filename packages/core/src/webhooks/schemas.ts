import { z } from 'zod';
import { eventPatternProblem, MAX_PATTERN_LENGTH } from './patterns.js';

/* Request and response shapes of /api/v1/webhooks (the OpenAPI document is built from them). */

export const MAX_PATTERNS = 50;

const webhookUrl = z
  .string()
  .trim()
  .max(2048)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http or https URL' });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must use http or https' });
    // fetch refuses such URLs; credentials belong in the path or query of the receiver's URL.
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not carry user:password@ credentials' });
  })
  .meta({ description: 'Receiver URL (http or https)', format: 'uri' });

const eventPattern = z
  .string()
  .max(MAX_PATTERN_LENGTH)
  .superRefine((value, ctx) => {
    const problem = eventPatternProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `event pattern "${value}" ${problem}` });
  });

const eventPatterns = z
  .array(eventPattern)
  .min(1)
  .max(MAX_PATTERNS)
  .transform((patterns) => [...new Set(patterns)])
  .meta({ description: 'Event name patterns: `party.created`, `party.*` (one segment), `crm.**` (any depth), `**` (everything)' });

const description = z.string().trim().max(500);

export const webhookCreateSchema = z.strictObject({
  url: webhookUrl,
  events: eventPatterns,
  description: description.optional(),
  active: z.boolean().optional(),
});
export type WebhookCreateInput = z.infer<typeof webhookCreateSchema>;

export const webhookUpdateSchema = z
  .strictObject({
    url: webhookUrl.optional(),
    events: eventPatterns.optional(),
    description: description.nullable().optional(),
    active: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, { message: 'name at least one of url, events, description, active' });
export type WebhookUpdateInput = z.infer<typeof webhookUpdateSchema>;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const webhookSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string().nullable(),
  active: z.boolean(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const webhookWithSecretSchema = webhookSchema.extend({
  secret: z.string().meta({ description: 'Signing secret (whsec_…). Shown only in this response: store it now.' }),
});

export const deliveryAttemptSchema = z.object({
  at: z.string(),
  statusCode: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
});

export const deliverySchema = z.object({
  id: z.uuid(),
  webhookId: z.uuid(),
  eventId: z.uuid(),
  eventName: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int().meta({ description: 'Attempts in the current schedule (a manual retry starts a new one)' }),
  nextAttemptAt: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
  history: z.array(deliveryAttemptSchema).meta({ description: 'Every attempt, oldest first' }),
});

export type Webhook = z.infer<typeof webhookSchema>;
export type WebhookWithSecret = z.infer<typeof webhookWithSecretSchema>;
export type WebhookDelivery = z.infer<typeof deliverySchema>;
export type WebhookDeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;
