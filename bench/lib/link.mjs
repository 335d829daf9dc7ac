// Rapport Link (PostgreSQL): sustained messages per second between two systems in one
// process, each on its own schema, over HTTP on loopback with real signatures. Messages are
// queued in transactions of 50 (the business writes), pushed by the sender's transport and
// applied at the receiver one transaction each; the figure is messages applied per second,
// from the first queued to the last applied, over 1 link and over 100 links.
import { createRequire } from 'node:module';
import path from 'node:path';
import { databaseUrl, loadCore, now, pgSchema, rootDir, benchLimits } from './common.mjs';

const zod = createRequire(path.join(rootDir, 'packages/core/package.json'))('zod');

function benchPlugin(core) {
  const { z } = zod;
  return core.definePlugin({
    name: 'linkbench',
    version: '1.0.0',
    setup(api) {
      api.relationshipTypes.define({ key: 'linkbench.supply', title: 'Supply', fromRole: 'supplier', toRole: 'buyer', statuses: ['active'], activeStatuses: ['active'], transitions: { active: [] } });
      api.federation.documentType(
        core.defineDocumentType({
          key: 'linkbench.order',
          version: 1,
          author: 'buyer',
          relationshipTypes: ['linkbench.supply'],
          schema: z.object({ reference: z.string(), quantity: z.number() }),
          toWire: (r) => r,
          applyLocally: () => undefined,
        }),
      );
    },
  });
}

async function system(core, label) {
  const pg = await pgSchema(label);
  const app = await core.createRapport({
    database: { url: databaseUrl, schema: pg.schema, pool: { min: 0, max: 10 } },
    plugins: [benchPlugin(core)],
    logLevel: 'silent',
    secretKey: '726170706f72742074657374206b65792c206e6f742061207365637265742121',
    limits: { enabled: false, ...benchLimits },
    // Loopback peers: links, like webhooks, call public addresses only unless this is set.
    dispatcher: { enabled: false, allowPrivateNetworks: true },
    scheduler: { enabled: false },
    federation: { pollIntervalMs: 20, batchSize: 200, concurrency: 20, pullIntervalMs: 3_600_000 },
  });
  const server = await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${server.address().port}`;
  app.federation.setBaseUrl(base);
  const { token } = await core.createApiKey(app.knex, app.defaultTenant.id, { name: 'bench', roles: ['admin'] });
  const call = async (route, body) => {
    const res = await fetch(base + route, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (res.status >= 300) throw new Error(`${label} ${route}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return { app, call, self: app.defaultTenant.selfPartyId, drop: async () => (await app.close(), await pg.drop()) };
}

async function linkPair(a, b, n) {
  const links = [];
  for (let i = 0; i < n; i++) {
    const supplier = (await a.call('/api/v1/parties', { kind: 'organization', name: `Supplier ${i}` })).id;
    const buyer = (await b.call('/api/v1/parties', { kind: 'organization', name: `Buyer ${i}` })).id;
    const relA = (await a.call('/api/v1/relationships', { type: 'linkbench.supply', fromPartyId: supplier, toPartyId: a.self, status: 'active' })).id;
    const relB = (await b.call('/api/v1/relationships', { type: 'linkbench.supply', fromPartyId: b.self, toPartyId: buyer, status: 'active' })).id;
    const invitation = await a.call('/api/v1/federation/invitations', { relationshipId: relA, localRole: 'buyer', documentTypes: ['linkbench.order'] });
    const link = await b.call('/api/v1/federation/links', { invitationUrl: invitation.invitationUrl, relationshipId: relB });
    links.push(link.id);
  }
  return links;
}

async function measure(a, b, links, total) {
  const perTransaction = 50;
  const started = now();
  let queued = 0;
  for (let i = 0; queued < total; i++) {
    const linkId = links[i % links.length];
    const count = Math.min(perTransaction, total - queued);
    await a.app.transaction(async (uow) => {
      for (let k = 0; k < count; k++) await a.app.federation.send(uow, { linkId, type: 'linkbench.order', body: { reference: `PO-${queued + k}`, quantity: k } });
    });
    queued += count;
  }
  a.app.linkTransport.nudge();
  const deadline = Date.now() + 600_000;
  for (;;) {
    const [{ applied }] = (await b.app.knex.raw('select coalesce(sum(in_applied_seq), 0)::bigint as applied from rapport_fed_links')).rows;
    if (Number(applied) >= total) break;
    if (Date.now() > deadline) throw new Error(`link bench: only ${applied} of ${total} applied in 10 min`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return total / ((now() - started) / 1000);
}

export async function linkBenchmarks({ quick }) {
  const core = await loadCore();
  const results = [];
  for (const [n, total] of quick
    ? [
        [1, 60],
        [5, 100],
      ]
    : [
        [1, 1_000],
        [100, 2_000],
      ]) {
    const a = await system(core, `link_a${n}`);
    const b = await system(core, `link_b${n}`);
    try {
      const links = await linkPair(a, b, n);
      const rate = await measure(a, b, links, total);
      results.push({
        name: `link: sustained messages/s over ${n} link${n > 1 ? 's' : ''} (${total.toLocaleString('en-US')} messages, signed, applied in order)`,
        db: 'postgres',
        baseline: null,
        measured: Math.round(rate),
        unit: 'msg/s',
        ratio: null,
        goal: '',
        detail: { links: n, total },
      });
    } finally {
      await a.drop();
      await b.drop();
    }
  }
  return results;
}
