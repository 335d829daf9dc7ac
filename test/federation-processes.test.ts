import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEST_DATABASE_URL, eventually, isolatedDatabase, testDatabaseKind, TEST_SECRET_KEY, type IsolatedDatabase } from '@rapport/testing';

/*
 * Two real `rapport serve` processes on loopback, a buyer and its supplier, each with its own
 * database (a data directory on PGlite, a fresh schema on PostgreSQL), linked with Rapport
 * Link. Runs the built CLI (`pnpm test` builds first).
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'packages/cli/dist/bin.js');
const kind = testDatabaseKind();
const url = process.env.RAPPORT_TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
const TOKEN = 'rpk_link-process-test-admin-key';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

class System {
  process?: ChildProcess;
  log = '';
  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    readonly database: IsolatedDatabase | undefined,
  ) {}

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      RAPPORT_BOOTSTRAP_KEY: TOKEN,
      RAPPORT_SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: 'warn',
      RAPPORT_TENANT_NAME: this.name,
    };
    if (kind === 'postgres') env.DATABASE_URL = url;
    else delete env.DATABASE_URL;
    const child = spawn(process.execPath, [bin, 'serve', '--port', String(this.port), '--host', '127.0.0.1'], { cwd: this.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => (this.log += chunk));
    child.stderr.on('data', (chunk) => (this.log += chunk));
    this.process = child;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`${this.name} exited: ${this.log}`);
        return (await fetch(`${this.base}/ready`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 120_000, intervalMs: 200, what: `${this.name} to serve` },
    );
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async call(method: string, route: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.base}${route}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${this.name} ${method} ${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }
}

async function system(name: string): Promise<System> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rapport-link-${name}-`));
  // The plugins resolve by package name from the workspace's own node_modules.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const port = await freePort();
  // On PostgreSQL a fresh schema of its own.
  const database = kind === 'postgres' ? await isolatedDatabase('postgres') : undefined;
  const schema = database?.config?.schema;
  const config = {
    plugins: ['@rapport/plugin-crm', '@rapport/plugin-prm'],
    ...(schema ? { database: { schema } } : {}),
    // Both systems are on loopback: links, like webhooks, call public addresses only unless this is set.
    dispatcher: { allowPrivateNetworks: true },
    federation: { baseUrl: `http://127.0.0.1:${port}`, pollIntervalMs: 100, retryBaseMs: 200, maxBackoffMs: 2000, pullIntervalMs: 3000 },
  };
  fs.writeFileSync(path.join(dir, 'rapport.config.json'), JSON.stringify(config));
  return new System(name, dir, port, database);
}

let buyer: System;
let supplier: System;

beforeAll(async () => {
  buyer = await system('buyer');
  supplier = await system('supplier');
  await Promise.all([buyer.start(), supplier.start()]);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([buyer?.stop(), supplier?.stop()]);
  for (const s of [buyer, supplier]) {
    if (!s) continue;
    fs.rmSync(s.dir, { recursive: true, force: true });
    await s.database?.dispose();
  }
});

const hours = (n: number) => new Date(Date.now() + n * 3_600_000).toISOString();
const health = async (s: System, linkId: string) => (await s.call('GET', `/api/v1/federation/links/${linkId}`)).health;
const inbox = async (s: System, linkId: string, type: string) =>
  ((await s.call('GET', `/api/v1/federation/links/${linkId}/messages?direction=in&limit=500`)).data as any[]).filter((m) => m.type === type);
async function settled(linkId: string) {
  await eventually(
    async () => {
      const [b, s] = await Promise.all([health(buyer, linkId), health(supplier, linkId)]);
      return b.behind === 0 && s.behind === 0 && b.lastSequenceApplied === s.lastSequenceSent && s.lastSequenceApplied === b.lastSequenceSent;
    },
    { timeoutMs: 120_000, intervalMs: 200, what: 'the link to settle' },
  );
}

describe('two rapport serve processes linked', () => {
  it('buyer and supplier go from RFQ to receipt; a stopped supplier loses nothing and applies nothing twice', async () => {
    const steelworks = (await buyer.call('POST', '/api/v1/parties', { kind: 'organization', name: 'Steelworks' })).id;
    const northwind = (await supplier.call('POST', '/api/v1/parties', { kind: 'organization', name: 'Northwind' })).id;
    const atBuyer = await buyer.call('POST', '/api/v1/relationships', {
      type: 'prm.supplier',
      fromPartyId: steelworks,
      toPartyId: (await buyer.call('GET', '/api/v1/tenant')).selfPartyId,
      status: 'approved',
    });
    const atSupplier = await supplier.call('POST', '/api/v1/relationships', {
      type: 'crm.customer',
      fromPartyId: (await supplier.call('GET', '/api/v1/tenant')).selfPartyId,
      toPartyId: northwind,
      status: 'customer',
    });
    await supplier.call('POST', '/api/v1/crm/pipelines', { name: 'Orders', stages: [{ name: 'Open' }, { name: 'Won', outcome: 'won' }] });
    const invitation = await buyer.call('POST', '/api/v1/federation/invitations', {
      relationshipId: atBuyer.id,
      localRole: 'buyer',
      documentTypes: ['prm.rfq', 'prm.quote', 'prm.purchase-order', 'prm.order-response', 'prm.despatch-advice', 'prm.receipt-advice'],
    });
    const link = await supplier.call('POST', '/api/v1/federation/links', { invitationUrl: invitation.invitationUrl, relationshipId: atSupplier.id });
    expect(link.peerKeys[0].thumbprint).toBe(invitation.link.localKeys[0].thumbprint);

    const rfq = await buyer.call('POST', '/api/v1/prm/rfqs', { title: 'Stainless sheet', quantity: 100, unit: 'kg', respondBy: hours(48), supplierIds: [steelworks] });
    await settled(link.id);
    const [rfqDoc] = await inbox(supplier, link.id, 'prm.rfq');
    await supplier.call('POST', `/api/v1/federation/links/${link.id}/documents`, {
      type: 'prm.quote',
      body: { unitPrice: 5, currency: 'EUR', leadTimeDays: 3 },
      inResponseTo: { type: 'prm.rfq', docId: rfqDoc.docId },
    });
    await settled(link.id);
    const quote = (await buyer.call('GET', `/api/v1/prm/rfqs/${rfq.id}`)).quotes[0];
    const po = await buyer.call('POST', '/api/v1/prm/purchase-orders', {
      supplierId: steelworks,
      reference: 'PO-9',
      quantity: 100,
      unitPrice: 5,
      currency: 'EUR',
      promisedAt: hours(72),
      rfqId: rfq.id,
      quoteId: quote.id,
    });
    await settled(link.id);
    const [poDoc] = await inbox(supplier, link.id, 'prm.purchase-order');
    expect((await supplier.call('GET', `/api/v1/crm/deals/${poDoc.outcome.dealId}`)).status).toBe('won');
    await supplier.call('POST', `/api/v1/federation/links/${link.id}/documents`, {
      type: 'prm.despatch-advice',
      body: { despatchedAt: hours(0), quantity: 100, expectedAt: hours(48) },
      inResponseTo: { type: 'prm.purchase-order', docId: poDoc.docId },
    });
    await settled(link.id);

    // The supplier's system stops; the buyer records the delivery meanwhile.
    await supplier.stop();
    await buyer.call('POST', `/api/v1/prm/purchase-orders/${po.id}/deliveries`, { receivedAt: hours(40), quantityAccepted: 98, quantityRejected: 2 });
    const behind = await eventually(async () => {
      const h = await health(buyer, link.id);
      return h.behind > 0 && h.lastError ? h : undefined;
    });
    expect(behind.behind).toBe(1);
    await supplier.start();
    await settled(link.id);
    const receipts = await inbox(supplier, link.id, 'prm.receipt-advice');
    expect(receipts).toHaveLength(1);
    expect(receipts[0].message.body).toMatchObject({ quantityAccepted: 98, quantityRejected: 2 });
    const sent = (await buyer.call('GET', `/api/v1/federation/links/${link.id}/messages?direction=out&limit=500`)).data as any[];
    expect(sent.map((m) => m.seq)).toEqual(sent.map((_, i) => i + 1));
    expect(sent.every((m) => m.status === 'applied')).toBe(true);
    expect((await inbox(supplier, link.id, 'prm.purchase-order')).length).toBe(1);
  });

  it('a partner registers a deal from its own system and hears the vendor’s decision', async () => {
    const vendor = buyer;
    const partner = supplier;
    const resellers = (await vendor.call('POST', '/api/v1/parties', { kind: 'organization', name: 'Resellers Ltd' })).id;
    const acme = (await partner.call('POST', '/api/v1/parties', { kind: 'organization', name: 'Acme Vendor' })).id;
    const vendorSelf = (await vendor.call('GET', '/api/v1/tenant')).selfPartyId;
    const partnership = await vendor.call('POST', '/api/v1/relationships', {
      type: 'prm.partner',
      fromPartyId: vendorSelf,
      toPartyId: resellers,
      status: 'active',
      attributes: { kind: 'reseller', program: 'Resell', tier: 'silver' },
    });
    const atPartner = await partner.call('POST', '/api/v1/relationships', {
      type: 'prm.supplier',
      fromPartyId: acme,
      toPartyId: (await partner.call('GET', '/api/v1/tenant')).selfPartyId,
      status: 'approved',
    });
    await vendor.call('POST', '/api/v1/crm/pipelines', { name: 'Channel', stages: [{ name: 'Open' }, { name: 'Won', outcome: 'won' }] });
    const invitation = await vendor.call('POST', '/api/v1/federation/invitations', {
      relationshipId: partnership.id,
      localRole: 'vendor',
      documentTypes: ['prm.deal-registration', 'prm.registration-decision', 'prm.registration-rejection'],
    });
    const link = await partner.call('POST', '/api/v1/federation/links', { invitationUrl: invitation.invitationUrl, relationshipId: atPartner.id });
    await partner.call('POST', `/api/v1/federation/links/${link.id}/documents`, {
      type: 'prm.deal-registration',
      body: { customerName: 'Initech', value: 20000, currency: 'EUR', expectedCloseDate: '2027-09-30' },
    });
    await settled(link.id);
    const [arrived] = await inbox(vendor, link.id, 'prm.deal-registration');
    await vendor.call('POST', `/api/v1/prm/registrations/${arrived.outcome.localRecordId}/approve`, {});
    await settled(link.id);
    const [decision] = await inbox(partner, link.id, 'prm.registration-decision');
    expect(decision.message.body.decision).toBe('approved');
  });
});
