import { TENANT_DISCOVERY_COMMENT } from '../storage/sharding.js';
import { z } from 'zod';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { sql } from '../kernel/context.js';
import type { Transact } from '../hooks/unit-of-work.js';
import { WakeableSleep } from '../util/wakeable-sleep.js';
import { wireMessageSchema, type Federation, type MessageResult } from './federation.js';
import { LINKS, OUTBOX, linkResource, num, livePeerKeys, type LinkRow } from './links.js';
import { SignatureError, verifySigned } from './signing.js';

const outboxPageSchema = z.object({ link: z.uuid(), messages: z.array(wireMessageSchema).max(500), lastSeq: z.number() });

export interface TransportHost {
  readonly knex: Knex;
  readonly logger: Logger;
  readonly transaction: Transact;
  readonly metrics: { readonly registry: Registry };
}

/**
 * Moves messages between linked systems: pushes each link's unanswered outbox messages in
 * order (back-off per link while the peer does not answer), pulls each link's peer outbox
 * to catch up after an outage, and reports links that stay behind.
 */
export class LinkTransport {
  private running = false;
  private loop?: Promise<void>;
  private readonly sleep = new WakeableSleep();
  private readonly logger: Logger;
  private lastPull = 0;
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly host: TransportHost,
    private readonly federation: Federation,
  ) {
    this.logger = host.logger.child({ component: 'federation-transport' });
    federation.onQueued = () => this.nudge();
    const knex = () => host.knex;
    // Read at scrape time: every node reports the same figures from the database.
    new Gauge({
      name: 'rapport_federation_link_behind',
      help: 'Messages sent on a link and not yet answered by the peer',
      labelNames: ['link', 'state'],
      registers: [host.metrics.registry],
      async collect() {
        this.reset();
        const rows: LinkRow[] = await knex()(LINKS).whereNot({ state: 'invited' }).select('id', 'state', 'out_seq', 'out_acked_seq');
        for (const row of rows) this.set({ link: row.id, state: row.state }, num(row.out_seq) - num(row.out_acked_seq));
      },
    });
    new Gauge({
      name: 'rapport_federation_link_sequence',
      help: 'Last sequence of a link: sent, acknowledged by the peer, applied from the peer',
      labelNames: ['link', 'kind'],
      registers: [host.metrics.registry],
      async collect() {
        this.reset();
        const rows: LinkRow[] = await knex()(LINKS).whereNot({ state: 'invited' }).select('id', 'out_seq', 'out_acked_seq', 'in_applied_seq');
        for (const row of rows) {
          this.set({ link: row.id, kind: 'sent' }, num(row.out_seq));
          this.set({ link: row.id, kind: 'acknowledged' }, num(row.out_acked_seq));
          this.set({ link: row.id, kind: 'applied' }, num(row.in_applied_seq));
        }
      },
    });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleep.wake();
    await this.loop;
  }

  nudge(): void {
    this.sleep.wake();
  }

  private async run(): Promise<void> {
    // Catch up at once on start: a system that was down has the most to pull.
    this.lastPull = 0;
    while (this.running) {
      try {
        if (Date.now() - this.lastPull >= this.federation.settings.pullIntervalMs) {
          this.lastPull = Date.now();
          await this.pullAll();
        }
        await this.pushDue();
        await this.reportBehind();
      } catch (error) {
        this.logger.error({ err: error }, 'federation transport round failed');
      }
      if (!this.running) break;
      await this.sleep.sleep(this.federation.settings.pollIntervalMs);
    }
  }

  /** Pushes every link that has unanswered messages and is due (tests call it directly). */
  async pushDue(): Promise<void> {
    // Across tenants, locking nothing: each link is then worked on in its own tenant.
    const discovery = this.host.knex(LINKS).comment(TENANT_DISCOVERY_COMMENT).orderBy('next_push_at').limit(1000);
    const queue: Array<Pick<LinkRow, 'tenant_id' | 'id'>> = await this.dueLinks(discovery).select('tenant_id', 'id');
    const workers = Array.from({ length: Math.min(this.federation.settings.concurrency, queue.length) }, async () => {
      for (let due = queue.shift(); due; due = queue.shift()) {
        if (this.inFlight.has(due.id)) continue;
        this.inFlight.add(due.id);
        try {
          // Read when its turn comes, not with the list: a push that ended meanwhile may have
          // answered it or put it off, and the peer's address may have changed.
          const link = (await this.dueLinks(this.host.knex(LINKS).where({ tenant_id: due.tenant_id, id: due.id })).first()) as LinkRow | undefined;
          if (link) await this.pushLink(link);
        } finally {
          this.inFlight.delete(due.id);
        }
      }
    });
    await Promise.all(workers);
  }

  /** Narrows `query` to the active links with unanswered messages whose next push is due. */
  private dueLinks(query: Knex.QueryBuilder): Knex.QueryBuilder {
    return query
      .where({ state: 'active' })
      .andWhereRaw('out_seq > out_acked_seq')
      .andWhere((q) => q.whereNull('next_push_at').orWhere('next_push_at', '<=', new Date()));
  }

  /** One push of a link's next batch; returns once the answer is recorded. */
  async pushLink(link: LinkRow): Promise<void> {
    const acked = num(link.out_acked_seq);
    const rows = await this.host
      .knex(OUTBOX)
      .where({ tenant_id: link.tenant_id, link_id: link.id })
      .andWhere('seq', '>', acked)
      .orderBy('seq')
      .limit(this.federation.settings.batchSize)
      .select('message');
    if (rows.length === 0) return;
    const messages = rows.map((r: any) => (typeof r.message === 'string' ? JSON.parse(r.message) : r.message));
    let answer;
    try {
      answer = await this.federation.signedPeerRequest(link, 'POST', `/links/${link.id}/inbox`, { link: link.id, messages });
    } catch (error) {
      await this.failed(link, (error as Error).message);
      return;
    }
    if (answer.status === 200) {
      const parsed = answer.json as { appliedThrough?: number; results?: MessageResult[] };
      await this.recordResults(link, parsed.results ?? []);
      return;
    }
    if (answer.status === 409 && typeof (answer.json as { expected?: unknown })?.expected === 'number') {
      // The peer expects an earlier seq (it lost what it had): send again from there.
      const expected = (answer.json as { expected: number }).expected;
      await this.host
        .knex(LINKS)
        .where({ tenant_id: link.tenant_id, id: link.id })
        .update({ out_acked_seq: Math.max(0, expected - 1), next_push_at: null, last_error: `the peer expects sequence ${expected}` });
      this.nudge();
      return;
    }
    await this.failed(link, `${answer.status}: ${answer.detail}`);
  }

  private async recordResults(link: LinkRow, results: MessageResult[]): Promise<void> {
    const ordered = [...results].sort((a, b) => a.seq - b.seq);
    await this.host.transaction(
      async (uow) => {
        const db = sql(uow);
        let through = num(link.out_acked_seq);
        for (const result of ordered) {
          if (result.seq !== through + 1) break;
          through = result.seq;
          await db(OUTBOX)
            .where({ tenant_id: link.tenant_id, link_id: link.id, seq: result.seq, status: 'pending' })
            .update({
              status: result.status,
              problem: result.problem ? JSON.stringify(result.problem) : null,
              outcome: result.outcome ? JSON.stringify(result.outcome) : null,
              answered_at: new Date(),
            });
          if (result.status === 'rejected') {
            uow.emit('federation.document.refused' as never, { linkId: link.id, seq: result.seq, messageId: result.id, problem: result.problem ?? null } as never, {
              type: 'federation.link',
              id: link.id,
            });
          }
        }
        const [updated] = await db(LINKS)
          .where({ tenant_id: link.tenant_id, id: link.id })
          .update({
            out_acked_seq: db.raw('greatest(out_acked_seq, ?)', [through]),
            push_attempts: 0,
            next_push_at: null,
            last_error: null,
            last_pushed_at: new Date(),
            // The time as a value, not now(): Citus refuses a non-immutable function inside CASE when it updates a reference table.
            behind_since: db.raw('case when out_seq > greatest(out_acked_seq, ?) then ?::timestamptz else null end', [through, new Date()]),
            behind_reported_at: db.raw('case when out_seq > greatest(out_acked_seq, ?) then behind_reported_at else null end', [through]),
          })
          .returning(['out_seq', 'out_acked_seq']);
        if (num(updated.out_seq) > num(updated.out_acked_seq)) this.nudge();
      },
      { tenantId: link.tenant_id },
    );
  }

  private async failed(link: LinkRow, error: string): Promise<void> {
    const attempts = link.push_attempts + 1;
    const { retryBaseMs, maxBackoffMs } = this.federation.settings;
    const delay = Math.min(maxBackoffMs, retryBaseMs * 2 ** Math.min(attempts - 1, 20)) * (0.75 + Math.random() * 0.5);
    await this.host
      .knex(LINKS)
      .where({ tenant_id: link.tenant_id, id: link.id })
      .update({ push_attempts: attempts, next_push_at: new Date(Date.now() + delay), last_error: error.slice(0, 1000), last_error_at: new Date() });
    this.logger.warn({ link: link.id, attempts, error }, 'push to the peer failed; backing off');
  }

  /** Pulls each active link's peer outbox after what was applied here (tests call it directly). */
  async pullAll(): Promise<void> {
    const rows = (await this.host.knex(LINKS).where({ state: 'active' }).limit(1000)) as LinkRow[];
    for (const link of rows) {
      try {
        await this.pullLink(link);
      } catch (error) {
        this.logger.warn({ link: link.id, err: error }, 'pull from the peer failed');
      }
    }
  }

  /** Pulls and applies the peer's messages after our applied seq until there are none left. */
  async pullLink(link: LinkRow): Promise<number> {
    let pulled = 0;
    let current = link;
    for (let round = 0; round < 1000; round++) {
      const after = num(current.in_applied_seq);
      const path = `/links/${link.id}/outbox?after=${after}&limit=${this.federation.settings.batchSize}`;
      const answer = await this.federation.signedPeerRequest(current, 'GET', path);
      if (answer.status !== 200) throw new Error(`pull answered ${answer.status}: ${answer.detail}`);
      try {
        await verifySigned({ status: 200, headers: answer.headers, body: answer.text }, livePeerKeys(current));
      } catch (error) {
        if (error instanceof SignatureError) throw new Error(`the pulled page is not signed by the peer: ${error.message}`);
        throw error;
      }
      const page = outboxPageSchema.safeParse(answer.json);
      if (!page.success || !page.data.messages || page.data.messages.length === 0) return pulled;
      const signature = answer.headers['signature'] ?? null;
      const result = await this.federation.applyBatch(current, page.data.messages, signature);
      pulled += result.results.filter((r) => !r.repeated).length;
      const fresh = (await this.host.knex(LINKS).where({ tenant_id: link.tenant_id, id: link.id }).first()) as LinkRow | undefined;
      if (!fresh || fresh.state !== 'active' || num(fresh.in_applied_seq) === after) return pulled;
      current = fresh;
    }
    return pulled;
  }

  /** Emits `federation.link.behind` once per stretch for links behind longer than the setting. */
  async reportBehind(): Promise<void> {
    const threshold = new Date(Date.now() - this.federation.settings.behindAfterMs);
    const rows = (await this.host
      .knex(LINKS)
      // Across tenants, locking nothing: each link is then worked on in its own tenant.
      .comment(TENANT_DISCOVERY_COMMENT)
      .where({ state: 'active' })
      .whereNotNull('behind_since')
      .whereNull('behind_reported_at')
      .andWhere('behind_since', '<=', threshold)
      .andWhereRaw('out_seq > out_acked_seq')
      .limit(1000)) as LinkRow[];
    for (const link of rows) {
      await this.host.transaction(
        async (uow) => {
          const updated = await sql(uow)(LINKS).where({ tenant_id: link.tenant_id, id: link.id }).whereNull('behind_reported_at').update({ behind_reported_at: new Date() });
          if (updated) uow.emit('federation.link.behind' as never, { link: linkResource(link) } as never, { type: 'federation.link', id: link.id });
        },
        { tenantId: link.tenant_id },
      );
    }
  }
}
