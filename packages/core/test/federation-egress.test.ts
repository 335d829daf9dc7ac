import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkedSystems, eventually, type LinkedSystems } from '@rapport/testing';
import { linkPlugin } from './fixtures/link-plugin.js';

/*
 * A link's peer URL passes the webhooks' egress rules (webhooks/egress.ts): loopback, private,
 * link-local and metadata addresses are refused unless dispatcher.allowPrivateNetworks, and a
 * name is checked on what DNS answers as the connection is made. The two systems here are on
 * loopback, so each test says which side refuses private networks.
 */
type Client = LinkedSystems['a']['admin'];

async function org(client: Client, name: string): Promise<string> {
  const res = await client.post('/api/v1/parties', { kind: 'organization', name });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function relationship(client: Client, fromPartyId: string, toPartyId: string): Promise<string> {
  const res = await client.post('/api/v1/relationships', { type: 'linktest.supply', fromPartyId, toPartyId, status: 'active' });
  expect(res.status).toBe(201);
  return res.body.id;
}

/** `inviter` invites `invited` to a link, each on a supply relationship of its own. */
async function invite(inviter: LinkedSystems['a'], invited: LinkedSystems['a']) {
  const rel = await relationship(inviter.admin, await org(inviter.admin, `Supplier ${crypto.randomUUID()}`), inviter.selfPartyId);
  const invitation = await inviter.admin.post('/api/v1/federation/invitations', { relationshipId: rel, localRole: 'buyer', documentTypes: ['linktest.order'] });
  expect(invitation.status).toBe(201);
  const invitedRel = await relationship(invited.admin, invited.selfPartyId, await org(invited.admin, `Buyer ${crypto.randomUUID()}`));
  return { url: invitation.body.invitationUrl as string, linkId: invitation.body.link.id as string, invitedRel };
}

const linkCount = async (t: LinkedSystems['a']) => Number((await t.app.knex('rapport_fed_links').count({ n: '*' }))[0].n);
const stateAt = async (t: LinkedSystems['a'], id: string) => (await t.app.knex('rapport_fed_links').where({ id }).first('state'))?.state;

// One pair serves both directions: A refuses private networks and B allows them, so A is
// the refusing side whether it is the one invited (by B) or the one inviting (B).
describe('Rapport Link egress: a side that refuses private networks', () => {
  let sys: LinkedSystems;
  beforeAll(async () => {
    sys = await createLinkedSystems({ shared: { plugins: [linkPlugin] }, a: { config: { dispatcher: { allowPrivateNetworks: false } } } });
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('refuses, when invited, an invitation on a loopback, private, link-local or metadata address and writes nothing', async () => {
    const { url, linkId, invitedRel } = await invite(sys.b, sys.a);
    const before = await linkCount(sys.a);
    const suffix = new URL(url).pathname + new URL(url).hash;
    for (const base of [new URL(url).origin, 'http://localhost:4000', 'http://10.0.0.7', 'http://[fe80::1]:8080', 'http://169.254.169.254', 'http://[::ffff:127.0.0.1]']) {
      const res = await sys.a.admin.post('/api/v1/federation/links', { invitationUrl: base + suffix, relationshipId: invitedRel });
      expect(res.status, base).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'invitationUrl' });
      expect(res.body.detail).toContain('dispatcher.allowPrivateNetworks');
    }
    expect(await linkCount(sys.a)).toBe(before);
    // The inviting side was never called: its invitation is still open.
    expect(await stateAt(sys.b, linkId)).toBe('invited');
  });

  it('refuses, when inviting, an acceptance whose base URL is on loopback: the invitation stays open, no link on either side', async () => {
    const { url, linkId, invitedRel } = await invite(sys.a, sys.b);
    const before = await linkCount(sys.b);
    const res = await sys.b.admin.post('/api/v1/federation/links', { invitationUrl: url, relationshipId: invitedRel });
    expect(res.status).toBe(422);
    expect(res.body.detail).toContain('is not a public address');
    expect(await linkCount(sys.b)).toBe(before);
    expect(await stateAt(sys.a, linkId)).toBe('invited');
  });
});

describe('Rapport Link egress at send time', () => {
  let sys: LinkedSystems;
  let linkId: string;
  let supplierAtBuyer: string;
  beforeAll(async () => {
    sys = await createLinkedSystems({ shared: { plugins: [linkPlugin] } });
    supplierAtBuyer = await org(sys.a.admin, 'Steelworks');
    const atBuyer = await relationship(sys.a.admin, supplierAtBuyer, sys.a.selfPartyId);
    const atSupplier = await relationship(sys.b.admin, sys.b.selfPartyId, await org(sys.b.admin, 'Northwind'));
    linkId = await sys.link({ aRelationshipId: atBuyer, bRelationshipId: atSupplier, aRole: 'buyer', documentTypes: ['linktest.order'] });
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('does not deliver to a peer name that resolves to a private address, nor to a private literal: nothing reaches it', async () => {
    const bPort = new URL(sys.b.baseUrl).port;
    const original = (await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).first('peer_base_url')).peer_base_url;
    // The peer's name now answers with this machine's address (DNS rebinding after the link was made).
    sys.a.app.federation.useEgressLookup(((_host: string, _options: unknown, callback: (e: null, a: Array<{ address: string; family: number }>) => void) =>
      callback(null, [{ address: '127.0.0.1', family: 4 }])) as never);
    await sys.a.app
      .knex('rapport_fed_links')
      .where({ id: linkId })
      .update({ peer_base_url: `http://supplier.example:${bPort}` });
    const placed = await sys.a.admin.post('/api/v1/linktest/orders', { supplierPartyId: supplierAtBuyer, reference: 'PO-EGRESS', quantity: 2 });
    expect(placed.status).toBe(201);
    const byName = await eventually(async () => ((await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).first('last_error')).last_error ?? undefined) as string | undefined, {
      what: 'the push to fail',
    });
    expect(byName).toContain('resolves to 127.0.0.1, which is not a public address');

    // A push that was already under way with the old name may still record its failure after
    // this reset (and push the next attempt back); such a stale answer is cleared again.
    const retryNow = async () => {
      await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).update({ peer_base_url: original, last_error: null, next_push_at: null });
      sys.a.app.linkTransport.nudge();
    };
    await retryNow();
    const literal = await eventually(
      async () => {
        const error = (await sys.a.app.knex('rapport_fed_links').where({ id: linkId }).first('last_error')).last_error as string | null;
        if (error?.includes('resolves to')) await retryNow();
        else return error ?? undefined;
      },
      { what: 'the push to the literal address to fail' },
    );
    expect(literal).toContain('127.0.0.1 is not a public address (dispatcher.allowPrivateNetworks)');
    expect(Number((await sys.b.app.knex('rapport_fed_inbox').where({ link_id: linkId }).count({ n: '*' }))[0].n)).toBe(0);
  });
});
