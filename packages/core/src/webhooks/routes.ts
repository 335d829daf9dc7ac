import { z } from 'zod';
import type { KernelModule } from '../app/module.js';
import type { PermissionDefinition } from '../kernel/types.js';
import type { WebhookSecrets } from './secrets.js';
import { booleanQuery, idParams, pageOf, pageQuery } from '../http/pagination.js';
import type { RouteBuilder } from '../http/routes.js';
import { deliverySchema, DELIVERY_STATUSES, webhookCreateSchema, webhookSchema, webhookUpdateSchema, webhookWithSecretSchema } from './schemas.js';
import { WebhookService } from './subscriptions.js';

/** What webhooks need of the system: the secrets' keys, the dispatcher, and whether private receivers are allowed. */
export interface WebhooksHost {
  readonly webhookSecrets: WebhookSecrets;
  readonly dispatcher: { start(): void; stop(): Promise<void>; nudge(): void };
  readonly config: { dispatcher?: { enabled?: boolean; allowPrivateNetworks?: boolean } };
}

export const WEBHOOK_PERMISSIONS: readonly PermissionDefinition[] = [
  { key: 'webhooks:read', description: 'Read webhook subscriptions and their delivery logs' },
  { key: 'webhooks:write', description: 'Create, change and delete webhook subscriptions' },
];

/** Webhook subscriptions, their delivery logs, and the dispatcher that delivers (docs/webhooks.md). */
export function webhooksModule(app: WebhooksHost): KernelModule {
  return {
    name: 'webhooks',
    permissions: WEBHOOK_PERMISSIONS,
    routes: (r) => webhookRoutes(r, app),
    start: () => {
      if (app.config.dispatcher?.enabled !== false) app.dispatcher.start();
    },
    stop: () => app.dispatcher.stop(),
  };
}

function webhookRoutes(r: RouteBuilder, app: WebhooksHost): void {
  const webhooks = new WebhookService(app.webhookSecrets, app.config.dispatcher?.allowPrivateNetworks === true);
  const tags = ['Webhooks'];

  r.post('/webhooks', {
    summary: 'Subscribe a URL to events',
    description:
      'Events whose name matches one of `events` are POSTed to `url`, signed with the returned `secret` (see docs/webhooks.md). ' +
      'The secret is shown in this response only. Idempotency-Key is not honoured here: the response carries a secret that is never stored in clear.',
    tags,
    permission: 'webhooks:write',
    body: webhookCreateSchema,
    response: webhookWithSecretSchema,
    // The response, secret in clear included, is not stored for replays.
    handler: (ctx) => ctx.transaction((uow) => webhooks.create(uow, ctx.body), { storeResponse: false }),
  });

  r.get('/webhooks', {
    summary: 'List webhook subscriptions',
    description: 'Newest first. Secrets are never listed.',
    tags,
    permission: 'webhooks:read',
    query: z.strictObject({ ...pageQuery, active: booleanQuery.optional() }),
    response: pageOf(webhookSchema),
    handler: (ctx) => webhooks.list(ctx, ctx.query),
  });

  r.get('/webhooks/:id', {
    summary: 'Get a webhook subscription',
    tags,
    permission: 'webhooks:read',
    params: idParams,
    response: webhookSchema,
    handler: (ctx) => webhooks.get(ctx, ctx.params.id),
  });

  r.patch('/webhooks/:id', {
    summary: 'Change a webhook subscription',
    description: 'Requires `If-Match`. Deactivating pauses deliveries; events committed while inactive are not delivered later.',
    tags,
    permission: 'webhooks:write',
    params: idParams,
    body: webhookUpdateSchema,
    requireIfMatch: true,
    response: webhookSchema,
    handler: (ctx) => ctx.transaction((uow) => webhooks.update(uow, ctx.params.id, ctx.body, ctx.ifMatch)),
  });

  r.delete('/webhooks/:id', {
    summary: 'Delete a webhook subscription and its delivery log',
    tags,
    permission: 'webhooks:write',
    params: idParams,
    status: 204,
    handler: async (ctx) => {
      await ctx.transaction((uow) => webhooks.remove(uow, ctx.params.id, ctx.ifMatch));
      return undefined;
    },
  });

  r.post('/webhooks/:id/rotate-secret', {
    summary: 'Replace the signing secret',
    description: 'The new secret is shown in this response only and signs every request from now on, retries included. Idempotency-Key is not honoured here (the response carries a secret).',
    tags,
    permission: 'webhooks:write',
    params: idParams,
    status: 200,
    response: webhookWithSecretSchema,
    handler: (ctx) => ctx.transaction((uow) => webhooks.rotateSecret(uow, ctx.params.id, ctx.ifMatch), { storeResponse: false }),
  });

  r.get('/webhooks/:id/deliveries', {
    summary: 'Delivery log of a subscription',
    description: 'One delivery per event, newest first, each with every attempt made (status code, error, duration).',
    tags,
    permission: 'webhooks:read',
    params: idParams,
    query: z.strictObject({ ...pageQuery, status: z.enum(DELIVERY_STATUSES).optional() }),
    response: pageOf(deliverySchema),
    handler: (ctx) => webhooks.deliveries(ctx, ctx.params.id, ctx.query),
  });

  r.post('/webhooks/:id/deliveries/:deliveryId/retry', {
    summary: 'Retry a failed delivery',
    description: 'Puts a delivery that exhausted its attempts back in the queue with a fresh schedule.',
    tags,
    permission: 'webhooks:write',
    params: z.strictObject({ id: z.uuid(), deliveryId: z.uuid() }),
    status: 200,
    response: deliverySchema,
    handler: async (ctx) => {
      const delivery = await ctx.transaction((uow) => webhooks.retryDelivery(uow, ctx.params.id, ctx.params.deliveryId));
      app.dispatcher.nudge();
      return delivery;
    },
  });
}
