import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.js';
import { privateHostProblem } from './egress.js';
import type { UnitOfWork } from '../hooks/unit-of-work.js';
import { sql, type QueryContext } from '../kernel/context.js';
import { BY_ID_DESC, keysetPage } from '../http/keyset.js';
import type { Page } from '../util/cursor.js';
import { newId } from '../util/ids.js';
import { iso, isoRequired } from '../util/time.js';
import type { DeliveryStatus, Webhook, WebhookCreateInput, WebhookDelivery, WebhookDeliveryAttempt, WebhookUpdateInput, WebhookWithSecret } from './schemas.js';
import type { WebhookSecrets } from './secrets.js';

declare module '../hooks/types.js' {
  interface HookMap {
    'webhook.created': { webhook: Webhook };
    'webhook.updated': { webhook: Webhook; previous: Webhook };
    'webhook.deleted': { webhook: Webhook };
    /** The secret itself is never in an event. */
    'webhook.secret-rotated': { webhook: Webhook };
  }
}

interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  active: boolean;
  version: number;
  created_at: Date;
  updated_at: Date;
}

const WEBHOOK_COLUMNS = ['id', 'url', 'events', 'description', 'active', 'version', 'created_at', 'updated_at'];

interface DeliveryRow {
  id: string;
  webhook_id: string;
  event_id: string;
  event_name: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Date;
}

const DELIVERY_COLUMNS = ['id', 'webhook_id', 'event_id', 'event_name', 'status', 'attempts', 'next_attempt_at', 'last_status_code', 'last_error', 'delivered_at', 'created_at'];

/**
 * A delivery's attempts, oldest first, as a JSON array read in the same statement as the
 * delivery: its attempt count and last error never disagree with the history beside them.
 */
interface HistoryColumn {
  history: Array<{ status_code: number | null; error: string | null; duration_ms: number; at: string }> | string;
}

function historyColumn(knex: Knex): Knex.Raw {
  return knex.raw(
    `coalesce((select json_agg(json_build_object('status_code', a.status_code, 'error', a.error, 'duration_ms', a.duration_ms, 'at', a.at) order by a.id)
       from rapport_webhook_attempts a where a.tenant_id = d.tenant_id and a.delivery_id = d.id), '[]'::json) as history`,
  );
}

function toAttempts(history: HistoryColumn['history']): WebhookDeliveryAttempt[] {
  const rows = typeof history === 'string' ? (JSON.parse(history) as Exclude<HistoryColumn['history'], string>) : history;
  return rows.map((a) => ({ at: isoRequired(a.at), statusCode: a.status_code, error: a.error, durationMs: a.duration_ms }));
}

export interface WebhookListQuery {
  active?: boolean;
  limit: number;
  cursor?: string;
}

export interface DeliveryListQuery {
  status?: DeliveryStatus;
  limit: number;
  cursor?: string;
}

/** A fresh signing secret: 256 random bits. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * Webhook subscriptions of a tenant and their delivery logs. Subscriptions are
 * tenant-wide (they can receive every event of the tenant), so principals scoped to a party
 * never manage them, whatever permissions their roles carry.
 *
 * The signing secret cannot be hashed (the dispatcher needs it to sign each request), so it
 * is stored encrypted (secrets.ts). It leaves the server only in the responses of create
 * and rotate-secret.
 */
export class WebhookService {
  constructor(
    private readonly secrets: WebhookSecrets,
    private readonly allowPrivateNetworks = false,
  ) {}

  /** A URL naming this machine or a private address literally is refused at once; a DNS name is checked as each delivery connects. */
  private checkReachable(url: string): void {
    const problem = this.allowPrivateNetworks ? undefined : privateHostProblem(url);
    if (problem) throw new ValidationError(`url: ${problem}; webhooks go to public addresses unless dispatcher.allowPrivateNetworks is set`, [{ path: 'url', message: problem }]);
  }

  async create(uow: UnitOfWork, input: WebhookCreateInput): Promise<WebhookWithSecret> {
    assertTenantWide(uow);
    this.checkReachable(input.url);
    const now = new Date();
    const secret = newWebhookSecret();
    const row: WebhookRow = {
      id: newId(),
      url: input.url,
      events: input.events,
      description: input.description ?? null,
      active: input.active ?? true,
      version: 1,
      created_at: now,
      updated_at: now,
    };
    const stored = this.secrets.seal(uow.tenantId, row.id, secret);
    await sql(uow)('rapport_webhooks').insert({ ...row, tenant_id: uow.tenantId, events: JSON.stringify(row.events), secret: stored });
    const webhook = toWebhook(row);
    uow.emit('webhook.created', { webhook }, { type: 'webhook', id: webhook.id });
    return { ...webhook, secret };
  }

  async list(ctx: QueryContext, query: WebhookListQuery): Promise<Page<Webhook>> {
    assertTenantWide(ctx);
    const q = sql(ctx)('rapport_webhooks').where('tenant_id', ctx.tenantId).select(WEBHOOK_COLUMNS);
    if (query.active !== undefined) q.where('active', query.active);
    return keysetPage(q, query, BY_ID_DESC, (rows: WebhookRow[]) => rows.map(toWebhook));
  }

  async get(ctx: QueryContext, id: string): Promise<Webhook> {
    return toWebhook(await this.row(ctx, id));
  }

  async update(uow: UnitOfWork, id: string, patch: WebhookUpdateInput, expectedVersion?: number): Promise<Webhook> {
    const row = await this.row(uow, id, { lock: true, expectedVersion });
    if (patch.url !== undefined) this.checkReachable(patch.url);
    const previous = toWebhook(row);
    const next: WebhookRow = {
      ...row,
      url: patch.url ?? row.url,
      events: patch.events ?? row.events,
      description: patch.description !== undefined ? patch.description : row.description,
      active: patch.active ?? row.active,
      version: row.version + 1,
      updated_at: new Date(),
    };
    await sql(uow)('rapport_webhooks')
      .where({ tenant_id: uow.tenantId, id })
      .update({ url: next.url, events: JSON.stringify(next.events), description: next.description, active: next.active, version: next.version, updated_at: next.updated_at });
    const webhook = toWebhook(next);
    uow.emit('webhook.updated', { webhook, previous }, { type: 'webhook', id });
    return webhook;
  }

  /** Deletes the subscription with its delivery log; deliveries in flight finish but record nothing. */
  async remove(uow: UnitOfWork, id: string, expectedVersion?: number): Promise<void> {
    const row = await this.row(uow, id, { lock: true, expectedVersion });
    await sql(uow)('rapport_webhook_attempts').where({ tenant_id: uow.tenantId, webhook_id: id }).delete();
    await sql(uow)('rapport_webhook_deliveries').where({ tenant_id: uow.tenantId, webhook_id: id }).delete();
    await sql(uow)('rapport_webhooks').where({ tenant_id: uow.tenantId, id }).delete();
    uow.emit('webhook.deleted', { webhook: toWebhook(row) }, { type: 'webhook', id });
  }

  /** A new secret replaces the old at once: requests signed from now on use the new one. */
  async rotateSecret(uow: UnitOfWork, id: string, expectedVersion?: number): Promise<WebhookWithSecret> {
    const row = await this.row(uow, id, { lock: true, expectedVersion });
    const secret = newWebhookSecret();
    const stored = this.secrets.seal(uow.tenantId, id, secret);
    const next: WebhookRow = { ...row, version: row.version + 1, updated_at: new Date() };
    await sql(uow)('rapport_webhooks').where({ tenant_id: uow.tenantId, id }).update({ secret: stored, version: next.version, updated_at: next.updated_at });
    const webhook = toWebhook(next);
    uow.emit('webhook.secret-rotated', { webhook }, { type: 'webhook', id });
    return { ...webhook, secret };
  }

  /** The delivery log of one subscription, newest first, each delivery with its attempts. */
  async deliveries(ctx: QueryContext, webhookId: string, query: DeliveryListQuery): Promise<Page<WebhookDelivery>> {
    await this.row(ctx, webhookId);
    const q = sql(ctx)('rapport_webhook_deliveries as d')
      .where({ 'd.tenant_id': ctx.tenantId, 'd.webhook_id': webhookId })
      .select(DELIVERY_COLUMNS.map((c) => `d.${c}`))
      .select(historyColumn(sql(ctx)));
    if (query.status) q.where('d.status', query.status);
    return keysetPage(q, query, [{ column: 'd.id', type: 'uuid', direction: 'desc' }], (rows: Array<DeliveryRow & HistoryColumn>) => rows.map((r) => toDelivery(r, toAttempts(r.history))));
  }

  /** Puts a failed delivery back in the queue with a fresh schedule of attempts. */
  async retryDelivery(uow: UnitOfWork, webhookId: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.row(uow, webhookId);
    const row: DeliveryRow | undefined = await sql(uow)('rapport_webhook_deliveries').where({ tenant_id: uow.tenantId, webhook_id: webhookId, id: deliveryId }).forUpdate().first(DELIVERY_COLUMNS);
    if (!row) throw new NotFoundError('Webhook delivery', deliveryId);
    if (row.status !== 'failed') {
      throw new ConflictError(`Webhook delivery ${deliveryId} is ${row.status}; only failed deliveries can be retried`, { deliveryStatus: row.status });
    }
    const [updated]: DeliveryRow[] = await sql(uow)('rapport_webhook_deliveries')
      .where({ tenant_id: uow.tenantId, id: deliveryId })
      .update({ status: 'pending', attempts: 0, next_attempt_at: sql(uow).fn.now(), lease_token: null }, DELIVERY_COLUMNS);
    // The row is locked: no dispatcher can add an attempt between the update and this read.
    const { history }: HistoryColumn = await sql(uow)('rapport_webhook_deliveries as d')
      .where({ 'd.tenant_id': uow.tenantId, 'd.id': deliveryId })
      .first(historyColumn(sql(uow)));
    return toDelivery(updated, toAttempts(history));
  }

  private async row(ctx: QueryContext, id: string, options: { lock?: boolean; expectedVersion?: number } = {}): Promise<WebhookRow> {
    assertTenantWide(ctx);
    const q = sql(ctx)('rapport_webhooks').where({ tenant_id: ctx.tenantId, id });
    if (options.lock) q.forUpdate();
    const row: WebhookRow | undefined = await q.first(WEBHOOK_COLUMNS);
    if (!row) throw new NotFoundError('Webhook', id);
    if (options.expectedVersion !== undefined && row.version !== options.expectedVersion) {
      throw new PreconditionFailedError(`Webhook ${id} is at version ${row.version}, not ${options.expectedVersion}`, { currentVersion: row.version });
    }
    return row;
  }
}

function assertTenantWide(ctx: QueryContext): void {
  if (ctx.principal.scopePartyId) {
    throw new ForbiddenError('Webhook subscriptions are tenant-wide; a principal scoped to a party cannot use them');
  }
}

function toWebhook(row: WebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    description: row.description,
    active: row.active,
    version: row.version,
    createdAt: isoRequired(row.created_at),
    updatedAt: isoRequired(row.updated_at),
  };
}

function toDelivery(row: DeliveryRow, history: WebhookDeliveryAttempt[]): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventName: row.event_name,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? iso(row.next_attempt_at) : null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    deliveredAt: iso(row.delivered_at),
    createdAt: isoRequired(row.created_at),
    history,
  };
}
