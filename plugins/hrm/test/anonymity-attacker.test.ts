import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import { createHrmPlugin } from '../src/index.js';
import { createRole, hire, ok, unit } from './helpers.js';

/*
 * The attacker: someone who can read every table of the system (rows, their physical place
 * `ctid` and the transaction that wrote them `xmin`) and who subscribed a webhook to `**`. They
 * know who took part (participation is named by design) and try to tell who answered what, by
 * every means below. Each respondent's answer is unique (an eNPS of 0..9, an upward rating
 * level), so a link is a claim "person P answered value V" that can be checked.
 *
 * Two kinds of means: exact ones (the same transaction, a group of one, an actor on an event,
 * an idempotency hash recomputed) claim only what they are sure of, and must claim nothing
 * true; order ones (by place, by id, by time) pair the n-th answer with the n-th participation,
 * and must not get them all right (a random order does so once in n! — 1 in 3.6 million here).
 *
 * People: Mia (unit Big, no manager) manages seven reports in Big and Sol, alone in unit Solo;
 * Neo (Big) reports to Sol, Sol's only report. So Solo, Sol's reports and "no manager" are each
 * a group of one.
 */

interface Person {
  name: string;
  id: string;
  keyId: string;
  unitId: string;
  managerId: string | null;
  enps: number;
}

type Row = Record<string, unknown> & { ctid: string; xmin: string };
type World = { tables: Map<string, Row[]>; webhooks: any[] };
type Claim = { personId: string; value: string };

const LEVELS = ['L0', 'L1', 'L2', 'L3', 'L4', 'L5', 'L6', 'L7', 'L8', 'L9'];

let t: TestApp;
let receiver: Receiver;
const people: Person[] = [];
const clients = new Map<string, TestApp['admin']>();
let survey: string;
let cycle: string;
let mia: Person;

class Receiver {
  readonly bodies: any[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.bodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end();
    });
  });
  url = '';
  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

beforeAll(async () => {
  receiver = new Receiver();
  await receiver.start();
  t = await createTestApp({ plugins: [createHrmPlugin()] });
  await ok(t.admin.post('/api/v1/webhooks', { url: `${receiver.url}/all`, events: ['**'], description: 'the attacker' }), 201);
  await createRole(t, 'staff', ['hrm.surveys:read', 'hrm.surveys:respond', 'hrm.reviews:read', 'hrm.reviews:write']);
  const big = await unit(t.admin, 'Big');
  const solo = await unit(t.admin, 'Solo');
  const plan: Array<{ name: string; unitId: string; manager: string | null }> = [
    { name: 'Mia', unitId: big, manager: null },
    ...Array.from({ length: 7 }, (_, i) => ({ name: `R${i + 1}`, unitId: big, manager: 'Mia' })),
    { name: 'Sol', unitId: solo, manager: 'Mia' },
    { name: 'Neo', unitId: big, manager: 'Sol' },
  ];
  for (const [i, p] of plan.entries()) {
    const managerId = p.manager ? people.find((q) => q.name === p.manager)!.id : null;
    const id = await hire(t.admin, { name: p.name, unitId: p.unitId, managerId });
    const client = await t.clientFor({ roles: ['staff'], scopePartyId: id });
    const key = await t.app.knex('rapport_api_keys').where({ party_id: id }).first('id');
    people.push({ name: p.name, id, keyId: key.id, unitId: p.unitId, managerId, enps: (i * 7) % 10 });
    clients.set(id, client);
  }
  mia = people[0];
  survey = (await ok(t.admin.post('/api/v1/hrm/surveys', { title: 'Pulse', kind: 'pulse', questions: [{ id: 'recommend', type: 'enps', text: 'Recommend us?' }] }), 201)).id;
  cycle = (
    await ok(
      t.admin.post('/api/v1/hrm/review-cycles', {
        name: 'H1',
        periodStart: '2026-01-01T00:00:00.000Z',
        periodEnd: '2026-06-30T00:00:00.000Z',
        competencies: ['delivery'],
        scale: { name: 'levels', levels: LEVELS },
      }),
      201,
    )
  ).id;
}, 120_000);

afterAll(async () => {
  await t?.close();
  await receiver?.stop();
});

/** Mia's reports: each gives her one upward review, at a level of its own. */
const upwardReviewers = () => people.filter((p) => p.managerId === mia.id);
const levelOf = (p: Person) => LEVELS[upwardReviewers().indexOf(p)];
const answerBody = (p: Person) => ({ answers: { recommend: p.enps } });
const reviewBody = (p: Person) => ({ subjectId: mia.id, kind: 'upward', ratings: { delivery: levelOf(p) } });

/** Everything the attacker sees: every table with each row's place and writing transaction, and every webhook received. */
async function observe(): Promise<World> {
  // Every event written so far reached the `**` webhook (its delivery is asynchronous).
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events: Array<{ id: string }> = await t.app.knex('rapport_outbox').where({ tenant_id: t.tenantId }).select('id');
    const received = new Set(receiver.bodies.map((b) => b.id));
    if (events.every((e) => received.has(e.id))) break;
    if (Date.now() > deadline) throw new Error(`webhook deliveries still missing: ${events.filter((e) => !received.has(e.id)).length}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const names: Array<{ table_name: string }> = (await t.app.knex.raw("select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'")).rows;
  const tables = new Map<string, Row[]>();
  for (const { table_name: name } of names) tables.set(name, (await t.app.knex.raw(`select ctid::text as ctid, xmin::text as xmin, * from "${name}"`)).rows);
  expect(tables.size).toBeGreaterThan(20);
  return { tables, webhooks: [...receiver.bodies] };
}

const place = (ctid: string) => {
  const [page, item] = ctid.slice(1, -1).split(',').map(Number);
  return page * 1e6 + item;
};
const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** Rows (of any table) that carry an answer value of the given kind in clear, with the value. */
function answerRows(world: World, valueOf: (row: Row) => string | undefined): Array<{ table: string; row: Row; value: string }> {
  const out: Array<{ table: string; row: Row; value: string }> = [];
  for (const [table, rows] of world.tables) {
    for (const row of rows) {
      const value = valueOf(row);
      if (value !== undefined) out.push({ table, row, value });
    }
  }
  return out;
}

const surveyValue = (row: Row) => {
  const m = /"recommend":\s*(\d+)/.exec(Object.values(row).map(text).join(' '));
  return m ? m[1] : undefined;
};
const reviewValue = (row: Row) => {
  const m = /"delivery":\s*"(L\d)"/.exec(Object.values(row).map(text).join(' '));
  return m ? m[1] : undefined;
};

/** The attacker's means; each returns its claims. `who` are the people whose answers are sought, in the named table of who took part. */
function attack(
  world: World,
  input: { who: Person[]; takenPart: { table: string; where: (row: Row) => boolean }; valueOf: (row: Row) => string | undefined; path: string; bodyFor: (value: string) => unknown; event: string },
) {
  const byParty = new Map(input.who.map((p) => [p.id, p]));
  const byKey = new Map(input.who.map((p) => [p.keyId, p]));
  // Who took part, as the named table records it (one row per person).
  const taken = (world.tables.get(input.takenPart.table) ?? []).filter(input.takenPart.where);
  const personOf = (row: Row) => [...byParty.values()].find((p) => Object.values(row).includes(p.id));
  // Answers in clear, wherever they are — except rows that carry an event or a request (checked by the means below).
  const answers = answerRows(world, input.valueOf).filter(({ table }) => !['rapport_outbox', 'rapport_idempotency_keys'].includes(table));
  const claims: Record<string, Claim[]> = {};

  // 1. The same transaction: an answer written with a participation.
  claims.transaction = answers.flatMap(({ row, value }) => {
    const same = taken.filter((p) => p.xmin === row.xmin);
    const person = same.length === 1 ? personOf(same[0]) : undefined;
    return person ? [{ personId: person.id, value }] : [];
  });

  // 2–4. The n-th answer is the n-th participation: by physical place, by id, by time.
  const zip = (answerOrder: (a: Row, b: Row) => number, takenOrder: (a: Row, b: Row) => number): Claim[] => {
    if (answers.length !== taken.length || answers.length === 0) return [];
    const a = [...answers].sort((x, y) => answerOrder(x.row, y.row));
    const p = [...taken].sort(takenOrder);
    return a.flatMap(({ value }, i) => {
      const person = personOf(p[i]);
      return person ? [{ personId: person.id, value }] : [];
    });
  };
  const byPlace = (x: Row, y: Row) => place(x.ctid) - place(y.ctid);
  const timeOf = (row: Row) =>
    Object.values(row)
      .find((v): v is Date => v instanceof Date)
      ?.getTime() ?? null;
  claims.place = zip(byPlace, byPlace);
  claims.id = zip((x, y) => String(x.id).localeCompare(String(y.id)), byPlace);
  claims.time = answers.every(({ row }) => timeOf(row) !== null)
    ? zip(
        (x, y) => timeOf(x)! - timeOf(y)!,
        (x, y) => timeOf(x)! - timeOf(y)!,
      )
    : [];

  // 5. Groups of one: an answer's unit or manager that only one of those who took part shares.
  claims.groups = answers.flatMap(({ row, value }) => {
    const out: Claim[] = [];
    for (const [column, attribute] of [
      ['unit_id', 'unitId'],
      ['manager_id', 'managerId'],
    ] as const) {
      if (!(column in row)) continue;
      const group = [...byParty.values()].filter((p) => taken.some((r) => Object.values(r).includes(p.id)) && p[attribute] === row[column]);
      // Only where the stored groups are the people's groups: as many answers carry the value as people have it.
      const carrying = answers.filter((a) => a.row[column] === row[column]).length;
      if (group.length === 1 && carrying === 1) out.push({ personId: group[0].id, value });
    }
    return out;
  });

  // 6. The actor on the events (webhook envelopes and the outbox) and in the audit, in order, beside the answers in place order.
  const actorsInOrder = (actors: Array<string | null | undefined>): Claim[] => {
    const persons = actors.map((a) => (a ? byKey.get(a) : undefined));
    if (persons.some((p) => !p) || persons.length !== answers.length) return [];
    const a = [...answers].sort((x, y) => byPlace(x.row, y.row));
    return a.map(({ value }, i) => ({ personId: persons[i]!.id, value }));
  };
  const envelopes = world.webhooks.filter((b) => b.name === input.event).sort((x, y) => x.occurredAt.localeCompare(y.occurredAt));
  claims.webhookActor = actorsInOrder(envelopes.map((b) => b.actor?.id));
  const audit = (world.tables.get('rapport_audit') ?? []).filter((r) => r.action === input.event).sort((x, y) => (x.at as Date).getTime() - (y.at as Date).getTime());
  claims.auditActor = actorsInOrder(audit.map((r) => r.actor_id as string | null));

  // 7. Idempotency records: the caller's key and an unsalted hash of the request, tried against the few possible answers.
  claims.idempotency = (world.tables.get('rapport_idempotency_keys') ?? []).flatMap((row) => {
    const person = byKey.get(String(row.principal_id));
    const candidates = person ? [person] : [...byKey.values()];
    for (const p of candidates) {
      for (const value of [...Array.from({ length: 11 }, (_, i) => String(i)), ...LEVELS]) {
        const hash = createHash('sha256')
          .update(`POST ${input.path}\n${p.keyId}\n${JSON.stringify(input.bodyFor(value))}`)
          .digest('hex');
        if (hash === row.request_hash) return [{ personId: p.id, value }];
      }
    }
    return [];
  });

  // 8. Anything else that holds a person and an answer side by side: a row, an event payload, a webhook body.
  const sideBySide = [...[...world.tables.values()].flat().map((row) => Object.values(row).map(text).join(' ')), ...world.webhooks.map((b) => JSON.stringify(b))];
  claims.together = sideBySide.flatMap((blob) => {
    const value = input.valueOf({ blob } as unknown as Row);
    if (value === undefined) return [];
    const persons = [...byParty.values()].filter((p) => blob.includes(p.id) || blob.includes(p.keyId));
    return persons.length === 1 ? [{ personId: persons[0].id, value }] : [];
  });
  return { claims, answers: answers.length };
}

/** The claims that are true. */
function trueClaims(claims: Claim[], truth: (p: Person) => string): Claim[] {
  return claims.filter((c) => truth(people.find((p) => p.id === c.personId)!) === c.value);
}

function expectNoLink(result: ReturnType<typeof attack>, truth: (p: Person) => string, n: number) {
  for (const means of ['transaction', 'groups', 'webhookActor', 'auditActor', 'idempotency', 'together']) {
    expect(trueClaims(result.claims[means], truth), `${means} links an answer to its author`).toEqual([]);
  }
  for (const means of ['place', 'id', 'time']) {
    expect(trueClaims(result.claims[means], truth).length, `${means} order links every answer to its author`).toBeLessThan(n);
  }
}

describe('an attacker with database access and a ** webhook', () => {
  it('cannot link an anonymous survey answer to who gave it, while the survey is open or after it closed', async () => {
    await ok(t.admin.post(`/api/v1/hrm/surveys/${survey}/open`));
    for (const p of people) {
      await ok(clients.get(p.id)!.post(`/api/v1/hrm/surveys/${survey}/responses`, answerBody(p), { headers: { 'idempotency-key': `answer-${p.name}` } }), 201);
    }
    const means = {
      who: people,
      takenPart: { table: 'hrm_survey_participations', where: (row: Row) => row.survey_id === survey },
      valueOf: surveyValue,
      path: `/api/v1/hrm/surveys/${survey}/responses`,
      bodyFor: (value: string) => ({ answers: { recommend: Number(value) } }),
      event: 'hrm.survey.participated',
    };
    const truth = (p: Person) => String(p.enps);
    // The keyed idempotency record still replays, for its caller only.
    const again = await clients.get(people[2].id)!.post(`/api/v1/hrm/surveys/${survey}/responses`, answerBody(people[2]), { headers: { 'idempotency-key': `answer-${people[2].name}` } });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const changed = await clients.get(people[2].id)!.post(`/api/v1/hrm/surveys/${survey}/responses`, { answers: { recommend: 10 } }, { headers: { 'idempotency-key': `answer-${people[2].name}` } });
    expect(changed.status).toBe(422);
    const otherCaller = await clients.get(people[3].id)!.post(`/api/v1/hrm/surveys/${survey}/responses`, answerBody(people[2]), { headers: { 'idempotency-key': `answer-${people[2].name}` } });
    expect(otherCaller.status).toBe(409); // not a replay of someone else's answer: a second answer, refused
    expect((await ok(t.admin.get(`/api/v1/hrm/surveys/${survey}/participation`))).participants).toBe(people.length);
    const open = attack(await observe(), means);
    expectNoLink(open, truth, people.length);
    await ok(t.admin.post(`/api/v1/hrm/surveys/${survey}/close`));
    const closed = attack(await observe(), means);
    // The answers are there in clear once closed (the attack had something to work on)…
    expect(closed.answers).toBe(people.length);
    expectNoLink(closed, truth, people.length);
    // …and the results are still served under the threshold: overall; not per unit, since Solo's one
    // answer would be overall minus Big (so Big is held back too).
    const results = await ok(t.admin.get(`/api/v1/hrm/surveys/${survey}/results`));
    expect(results.overall).toMatchObject({ suppressed: false, responses: people.length });
    expect(results.units.map((u: any) => u.suppressed)).toEqual([true, true]);
  }, 180_000);

  it('cannot link an upward review to who gave it; its event has no actor and its audit entry names no one', async () => {
    const reviewers = upwardReviewers();
    for (const p of reviewers) {
      await ok(clients.get(p.id)!.post(`/api/v1/hrm/review-cycles/${cycle}/reviews`, reviewBody(p), { headers: { 'idempotency-key': `review-${p.name}` } }), 201);
    }
    const means = {
      who: reviewers,
      takenPart: { table: 'hrm_review_givers', where: (row: Row) => row.cycle_id === cycle && row.kind === 'upward' },
      valueOf: reviewValue,
      path: `/api/v1/hrm/review-cycles/${cycle}/reviews`,
      bodyFor: (value: string) => ({ subjectId: mia.id, kind: 'upward', ratings: { delivery: value } }),
      event: 'hrm.review.submitted',
    };
    const truth = (p: Person) => levelOf(p);
    const world = await observe();
    expectNoLink(attack(world, means), truth, reviewers.length);
    // Directly: no upward review's envelope carries an actor, no audit entry of one names anyone.
    const envelopes = world.webhooks.filter((b) => b.name === 'hrm.review.submitted');
    expect(envelopes).toHaveLength(reviewers.length);
    expect(envelopes.map((b) => b.actor)).toEqual(reviewers.map(() => null));
    const audit = world.tables.get('rapport_audit')!.filter((r) => r.action === 'hrm.review.submitted');
    expect(audit.map((r) => [r.actor_kind, r.actor_id])).toEqual(reviewers.map(() => ['anonymous', null]));
    await ok(t.admin.post(`/api/v1/hrm/review-cycles/${cycle}/close`));
    const closed = attack(await observe(), means);
    expect(closed.answers).toBe(reviewers.length);
    expectNoLink(closed, truth, reviewers.length);
    // Mia's upward score is still served, from the eight reviews.
    const scores = await ok(t.admin.get(`/api/v1/hrm/review-cycles/${cycle}/scores/${mia.id}`));
    expect(scores.byKind.upward.reviews).toBe(reviewers.length);
  }, 180_000);

  it('leaves an anonymous answer no actor and a self review its reviewer', async () => {
    const envelopes = receiver.bodies.filter((b) => b.name === 'hrm.survey.participated');
    expect(envelopes.length).toBe(people.length);
    expect(envelopes.every((b) => b.actor === null)).toBe(true);
    // A review that is not anonymous keeps its actor: the flag is per request.
    const p = people[3];
    await ok(clients.get(p.id)!.post(`/api/v1/hrm/review-cycles/${(await newCycle()).id}/reviews`, { subjectId: p.id, kind: 'self', ratings: { delivery: 'L5' } }), 201);
    await observe();
    const self = receiver.bodies.filter((b) => b.name === 'hrm.review.submitted' && b.payload.kind === 'self');
    expect(self.map((b) => b.actor?.id)).toEqual([p.keyId]);
  }, 120_000);
});

function newCycle() {
  return ok(
    t.admin.post('/api/v1/hrm/review-cycles', {
      name: 'H2',
      periodStart: '2026-07-01T00:00:00.000Z',
      periodEnd: '2026-12-31T00:00:00.000Z',
      competencies: ['delivery'],
      scale: { name: 'levels', levels: LEVELS },
    }),
    201,
  );
}
