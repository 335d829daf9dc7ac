import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkedSystems, eventually, linkHealth, type LinkedSystems } from '@rapport/testing';
import { generateKeyPair, privateKeyOf, signRequest, PEER_PATH } from '@rapport/core';
import { linkPlugin } from './fixtures/link-plugin.js';

/*
 * Rapport Link between two in-process systems (a = buyer, b = supplier), each on its own
 * database: invitation and keys, ordered exactly-once delivery, refusals that change nothing.
 */
let sys: LinkedSystems;
let linkId: string;
let supplierAtBuyer: string;
let buyerAtSupplier: string;

async function org(client: LinkedSystems['a']['admin'], name: string): Promise<string> {
  const res = await client.post('/api/v1/parties', { kind: 'organization', name });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function relationship(client: LinkedSystems['a']['admin'], fromPartyId: string, toPartyId: string): Promise<string> {
  const res = await client.post('/api/v1/relationships', { type: 'linktest.supply', fromPartyId, toPartyId, status: 'active' });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function timeline(client: LinkedSystems['a']['admin'], partyId: string) {
  const res = await client.get(`/api/v1/parties/${partyId}/timeline?limit=100`);
  expect(res.status).toBe(200);
  return (res.body.data as Array<{ type: string; subject: string; direction: string; attributes: any }>).filter((i) => i.type === 'linktest.document');
}

async function inbox(client: LinkedSystems['a']['admin'], id: string) {
  const res = await client.get(`/api/v1/federation/links/${id}/messages?direction=in&limit=500`);
  expect(res.status).toBe(200);
  return res.body.data as Array<{ seq: number; status: string; message: any; problem: any }>;
}

async function outbox(client: LinkedSystems['a']['admin'], id: string) {
  const res = await client.get(`/api/v1/federation/links/${id}/messages?direction=out&limit=500`);
  expect(res.status).toBe(200);
  return res.body.data as Array<{ seq: number; status: string; message: any; problem: any }>;
}

/** A request to the supplier's inbox signed with the buyer's own link key (what its pusher sends). */
async function signedToSupplier(body: unknown, options: { created?: Date; key?: { kid: string; privateKey: ReturnType<typeof privateKeyOf> }; rawBody?: string; link?: string } = {}) {
  const target = options.link ?? linkId;
  const url = `${sys.b.baseUrl}${PEER_PATH}/links/${target}/inbox`;
  const text = JSON.stringify(body);
  const row = await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).first();
  const key = options.key ?? sys.a.app.federation.signingKey(row);
  const headers = await signRequest(key, { method: 'POST', url, body: text, created: options.created });
  return fetch(url, { method: 'POST', headers, body: options.rawBody ?? text });
}

function message(seq: number, overrides: Record<string, unknown> = {}) {
  return {
    id: crypto.randomUUID(),
    seq,
    type: 'linktest.order',
    typeVersion: 1,
    docId: crypto.randomUUID(),
    docVersion: 1,
    author: 'buyer',
    sentAt: new Date().toISOString(),
    body: { reference: `PO-${seq}`, quantity: 5 },
    ...overrides,
  };
}

beforeAll(async () => {
  sys = await createLinkedSystems({ shared: { plugins: [linkPlugin] } });
  supplierAtBuyer = await org(sys.a.admin, 'Steelworks');
  buyerAtSupplier = await org(sys.b.admin, 'Northwind');
  const atBuyer = await relationship(sys.a.admin, supplierAtBuyer, sys.a.selfPartyId);
  const atSupplier = await relationship(sys.b.admin, sys.b.selfPartyId, buyerAtSupplier);
  linkId = await sys.link({ aRelationshipId: atBuyer, bRelationshipId: atSupplier, aRole: 'buyer', documentTypes: ['linktest.order', 'linktest.order-response'] });
});

afterAll(async () => {
  await sys?.close();
});

describe('Rapport Link between two systems', () => {
  it('links with each side showing the other side’s key thumbprint, roles reversed', async () => {
    const [a, b] = await Promise.all([sys.a.admin.get(`/api/v1/federation/links/${linkId}`), sys.b.admin.get(`/api/v1/federation/links/${linkId}`)]);
    expect(a.body.state).toBe('active');
    expect(b.body.state).toBe('active');
    expect(a.body.localRole).toBe('buyer');
    expect(b.body.localRole).toBe('supplier');
    expect(a.body.peerPartyId).toBe(supplierAtBuyer);
    expect(b.body.peerPartyId).toBe(buyerAtSupplier);
    expect(a.body.localKeys[0].thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(b.body.peerKeys.map((k: any) => k.thumbprint)).toEqual([a.body.localKeys[0].thumbprint]);
    expect(a.body.peerKeys.map((k: any) => k.thumbprint)).toEqual([b.body.localKeys[0].thumbprint]);
    const row = await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).first();
    expect(row.invitation_secret_hash).toBeNull();
  });

  it('the invitation URL works once', async () => {
    const rel = await relationship(sys.a.admin, await org(sys.a.admin, 'Once Ltd'), sys.a.selfPartyId);
    const invitation = await sys.a.admin.post('/api/v1/federation/invitations', { relationshipId: rel, localRole: 'buyer', documentTypes: ['linktest.order'] });
    expect(invitation.status).toBe(201);
    const secretless = invitation.body.invitationUrl.split('#')[0];
    expect((await fetch(secretless)).status).toBe(404);
    const wrong = await fetch(secretless, { headers: { 'rapport-invitation-secret': 'nope' } });
    expect(wrong.status).toBe(404);
    const stored = await sys.a.app.knex('rapport_fed_links').where({ id: invitation.body.link.id }).first();
    expect(stored.invitation_secret_hash).not.toContain(invitation.body.invitationUrl.split('#')[1]);
    const other = await relationship(sys.b.admin, sys.b.selfPartyId, await org(sys.b.admin, 'Once buyer'));
    const first = await sys.b.admin.post('/api/v1/federation/links', { invitationUrl: invitation.body.invitationUrl, relationshipId: other });
    expect(first.status).toBe(201);
    await sys.b.admin.post(`/api/v1/federation/links/${first.body.id}/revoke`);
    const again = await sys.a.admin.get(`/api/v1/federation/links/${first.body.id}`);
    expect(again.body.state).toBe('revoked');
  });

  it('lists links a keyset page at a time; a bare link id, the cursor of earlier versions, is a 400', async () => {
    const all = await sys.a.admin.get('/api/v1/federation/links?limit=200');
    expect(all.status).toBe(200);
    expect(all.body.data.length).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: Array<{ id: string }>; nextCursor: string | null } } = await sys.a.admin.get(`/api/v1/federation/links?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.data.map((l) => l.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.data.map((l: { id: string }) => l.id));
    const old = await sys.a.admin.get(`/api/v1/federation/links?cursor=${linkId}`);
    expect(old.status).toBe(400);
    expect(old.headers.get('content-type')).toContain('application/problem+json');
    expect(old.body.detail).toMatch(/cursor is not valid/);
  });

  it('sends an order: only the wire schema’s fields leave; it lands on the supplier’s timeline with both roles', async () => {
    const placed = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-1', quantity: 20, internalNote: 'we would pay double' });
    expect(placed.status).toBe(201);
    await sys.settled(linkId);
    const received = await inbox(sys.b.admin, linkId);
    const order = received.find((m) => m.message.docId === placed.body.id)!;
    expect(order.status).toBe('applied');
    expect(order.message.body).toEqual({ reference: 'PO-1', quantity: 20 });
    expect(JSON.stringify(order.message)).not.toContain('double');
    const rows = await sys.b.app.knex('rapport_fed_inbox').select('message');
    expect(JSON.stringify(rows)).not.toContain('internalNote');
    const atSupplier = await timeline(sys.b.admin, buyerAtSupplier);
    expect(atSupplier.some((i) => i.subject === 'linktest.order v1' && i.direction === 'inbound')).toBe(true);
    const atBuyer = await timeline(sys.a.admin, supplierAtBuyer);
    expect(atBuyer.some((i) => i.subject === 'linktest.order v1' && i.direction === 'outbound')).toBe(true);
    const sent = await outbox(sys.a.admin, linkId);
    expect(sent.find((m) => m.message.docId === placed.body.id)!.status).toBe('applied');
  });

  it('the supplier answers with its own document; the buyer cannot author it', async () => {
    const placed = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-2', quantity: 3 });
    await sys.settled(linkId);
    const answer = await sys.b.admin.post(`/api/v1/federation/links/${linkId}/documents`, {
      type: 'linktest.order-response',
      body: { decision: 'accepted' },
      inResponseTo: { type: 'linktest.order', docId: placed.body.id },
    });
    expect(answer.status).toBe(201);
    await sys.settled(linkId);
    const received = await inbox(sys.a.admin, linkId);
    expect(received.find((m) => m.message.docId === answer.body.docId)!.message.inResponseTo).toEqual({ type: 'linktest.order', docId: placed.body.id });
    const wrongAuthor = await sys.a.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'linktest.order-response', body: { decision: 'accepted' } });
    expect(wrongAuthor.status).toBe(400);
    expect(wrongAuthor.body.detail).toContain('authored by the supplier');
  });

  it('a document the receiver’s rules refuse is a final rejection the sender sees; the next one goes on', async () => {
    const big = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-BIG', quantity: 5000 });
    const small = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-SMALL', quantity: 1 });
    await sys.settled(linkId);
    const sent = await outbox(sys.a.admin, linkId);
    const refused = sent.find((m) => m.message.docId === big.body.id)!;
    expect(refused.status).toBe('rejected');
    expect(refused.problem.detail).toContain('over the 1000 units');
    expect(sent.find((m) => m.message.docId === small.body.id)!.status).toBe('applied');
    const atSupplier = await timeline(sys.b.admin, buyerAtSupplier);
    expect(atSupplier.some((i) => i.attributes?.docId === big.body.id)).toBe(false);
  });

  it('refuses a replayed, tampered, wrongly keyed, stale or unknown-link message, and changes nothing', async () => {
    await sys.settled(linkId);
    const before = await linkHealth(sys.b.admin, linkId);
    const countBefore = (await timeline(sys.b.admin, buyerAtSupplier)).length;
    const applied = (await inbox(sys.b.admin, linkId)).at(-1)!;

    const replay = await signedToSupplier({ link: linkId, messages: [applied.message] });
    expect(replay.status).toBe(200);
    const replayed: any = await replay.json();
    expect(replayed.results[0]).toMatchObject({ seq: applied.seq, status: applied.status, repeated: true });

    const next = message(before.health.lastSequenceApplied + 1);
    const tampered = await signedToSupplier({ link: linkId, messages: [next] }, { rawBody: JSON.stringify({ link: linkId, messages: [{ ...next, body: { reference: 'PO-X', quantity: 999 } }] }) });
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as any).type).toContain('signature-digest');

    const stranger = await generateKeyPair();
    const wrongKey = await signedToSupplier({ link: linkId, messages: [next] }, { key: { kid: stranger.kid, privateKey: privateKeyOf(stranger.privatePkcs8) } });
    expect(wrongKey.status).toBe(401);
    expect(((await wrongKey.json()) as any).type).toContain('signature-unknown-key');

    const stale = await signedToSupplier({ link: linkId, messages: [next] }, { created: new Date(Date.now() - 301_000) });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as any).type).toContain('signature-expired');

    // Well past the window: 301 s ahead is inside it again once the request takes a second to verify on a loaded machine.
    const future = await signedToSupplier({ link: linkId, messages: [next] }, { created: new Date(Date.now() + 600_000) });
    expect(future.status).toBe(401);

    const unknown = await signedToSupplier({ link: linkId, messages: [next] }, { link: crypto.randomUUID() });
    expect(unknown.status).toBe(404);

    const after = await linkHealth(sys.b.admin, linkId);
    expect(after.health.lastSequenceApplied).toBe(before.health.lastSequenceApplied);
    expect((await timeline(sys.b.admin, buyerAtSupplier)).length).toBe(countBefore);
  });

  it('applies out-of-order and doubled deliveries once each, in order; a gap answers 409 with the expected sequence', async () => {
    // The buyer's own pusher is paused so that these hand-made sequences are the only traffic.
    await sys.a.app.linkTransport.stop();
    try {
      await sys.settled(linkId);
      const start = (await linkHealth(sys.b.admin, linkId)).health.lastSequenceApplied;
      const first = message(start + 1);
      const second = message(start + 2);
      const gap = await signedToSupplier({ link: linkId, messages: [second] });
      expect(gap.status).toBe(409);
      expect(((await gap.json()) as any).expected).toBe(start + 1);
      const res = await signedToSupplier({ link: linkId, messages: [second, first, first, second] });
      expect(res.status).toBe(200);
      const answer: any = await res.json();
      expect(answer.appliedThrough).toBe(start + 2);
      expect(answer.results.map((r: any) => [r.seq, r.status, r.repeated ?? false])).toEqual([
        [start + 1, 'applied', false],
        [start + 1, 'applied', true],
        [start + 2, 'applied', false],
        [start + 2, 'applied', true],
      ]);
      const received = (await inbox(sys.b.admin, linkId)).filter((m) => m.seq > start);
      expect(received.map((m) => m.message.id)).toEqual([first.id, second.id]);
      const entries = (await timeline(sys.b.admin, buyerAtSupplier)).filter((i) => i.attributes?.docId === first.docId || i.attributes?.docId === second.docId);
      expect(entries).toHaveLength(2);
    } finally {
      // Those hand-made messages took the buyer's next sequences at the supplier: move the buyer's log past them.
      const applied = (await linkHealth(sys.b.admin, linkId)).health.lastSequenceApplied;
      await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).update({ out_seq: applied, out_acked_seq: applied });
      sys.a.app.linkTransport.start();
    }
  });

  it('catches up by a signed pull when the sender does not push', async () => {
    await sys.a.app.linkTransport.stop();
    try {
      const placed = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-PULL', quantity: 2 });
      expect((await linkHealth(sys.a.admin, linkId)).health.behind).toBe(1);
      const synced = await sys.b.admin.post(`/api/v1/federation/links/${linkId}/sync`);
      expect(synced.status).toBe(200);
      const received = await inbox(sys.b.admin, linkId);
      expect(received.find((m) => m.message.docId === placed.body.id)?.status).toBe('applied');
    } finally {
      sys.a.app.linkTransport.start();
    }
    // The buyer's next push is answered as a repeat with the stored outcome: the link is even again.
    await sys.settled(linkId);
  });

  it('reports a link that stays behind with federation.link.behind, and health shows it', async () => {
    const events = sys.a.recordEvents('federation.link.behind');
    await sys.b.admin.post(`/api/v1/federation/links/${linkId}/suspend`);
    await eventually(async () => (await linkHealth(sys.a.admin, linkId)).state === 'suspended', { what: 'the buyer to hear of the suspension' });
    await sys.b.admin.post(`/api/v1/federation/links/${linkId}/resume`);
    await eventually(async () => (await linkHealth(sys.a.admin, linkId)).state === 'active', { what: 'the buyer to hear of the resumption' });
    // The supplier refuses while its side is suspended; the buyer's message waits.
    await sys.b.app.knex('rapport_fed_links').where({ id: linkId }).update({ state: 'suspended', state_by: 'local' });
    const placed = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-WAIT', quantity: 2 });
    expect(placed.status).toBe(201);
    await eventually(async () => (await linkHealth(sys.a.admin, linkId)).health.lastError?.includes('403'), { what: 'the refusal to show in health' });
    const health = await linkHealth(sys.a.admin, linkId);
    expect(health.health.behind).toBeGreaterThan(0);
    await sys.a.app
      .knex('rapport_fed_links')
      .where({ id: linkId })
      .update({ behind_since: new Date(Date.now() - 3_600_000) });
    await sys.a.app.linkTransport.reportBehind();
    await sys.a.app.settled();
    expect(events.some((e) => e.payload.link.id === linkId)).toBe(true);
    const metrics = await sys.a.app.metrics.registry.getSingleMetricAsString('rapport_federation_link_behind');
    expect(metrics).toContain(linkId);
    await sys.b.app.knex('rapport_fed_links').where({ id: linkId }).update({ state: 'active', state_by: null });
    await sys.settled(linkId);
    expect((await inbox(sys.b.admin, linkId)).some((m) => m.message.docId === placed.body.id)).toBe(true);
  });

  it('rotates a key with an overlap: new messages verify, the old key is still accepted until the overlap ends', async () => {
    const oldRow = await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).first();
    const oldKey = sys.a.app.federation.signingKey(oldRow);
    const rotated = await sys.a.admin.post(`/api/v1/federation/links/${linkId}/rotate-key`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.localKeys).toHaveLength(2);
    const atSupplier = await linkHealth(sys.b.admin, linkId);
    expect((atSupplier as any).peerKeys.map((k: any) => k.thumbprint)).toEqual(rotated.body.localKeys.map((k: any) => k.thumbprint));
    await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-NEWKEY', quantity: 2 });
    await sys.settled(linkId);
    const applied = (await inbox(sys.b.admin, linkId)).at(-1)!;
    const withOld = await signedToSupplier({ link: linkId, messages: [applied.message] }, { key: oldKey });
    expect(withOld.status).toBe(200);
  });

  it('revoking on one side stops both directions', async () => {
    const revoked = await sys.a.admin.post(`/api/v1/federation/links/${linkId}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.peerNotified).toBe(true);
    expect((await linkHealth(sys.b.admin, linkId)).state).toBe('revoked');
    const fromSupplier = await sys.b.admin.post(`/api/v1/federation/links/${linkId}/documents`, { type: 'linktest.order-response', body: { decision: 'accepted' } });
    expect(fromSupplier.status).toBe(409);
    const placed = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-AFTER', quantity: 2 });
    expect(placed.status).toBe(201);
    expect((await linkHealth(sys.a.admin, linkId)).health.lastSequenceSent).toBe(revoked.body.link.health.lastSequenceSent);
    const direct = await signedToSupplier({ link: linkId, messages: [message(revoked.body.link.health.lastSequenceSent + 1)] });
    expect(direct.status).toBe(410);
  });
});
