import { z } from 'zod';
import { definePlugin, VetoError } from '@rapport/core';
import { prm } from '../src/index.js';
import type { TestApp, TestClient } from '@rapport/testing';
import { expect } from 'vitest';

/** Stands in for CRM in tests: any plugin whose relationship gives a party the role `customer`. */
export const shopPlugin = definePlugin({
  name: 'shop',
  version: '1.0.0',
  setup(api) {
    api.relationshipTypes.define({ key: 'shop.customer', fromRole: 'vendor', toRole: 'customer', attributes: z.strictObject({}) });
  },
});

export async function ok<T = any>(response: Promise<{ status: number; body: T; text: string }>, status = 200): Promise<T> {
  const res = await response;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
  return res.body;
}

export async function organization(t: TestApp, name: string, domain?: string): Promise<string> {
  const body = await ok(t.admin.post('/api/v1/parties', { kind: 'organization', name, ...(domain ? { contactPoints: [{ kind: 'domain', value: domain }] } : {}) }), 201);
  return body.id;
}

export async function person(t: TestApp, name: string): Promise<string> {
  return (await ok(t.admin.post('/api/v1/parties', { kind: 'person', name }), 201)).id;
}

/** An active partner: partnership (admin-created, straight to active) and a portal client. */
export async function activePartner(t: TestApp, name: string, roles = ['admin']): Promise<{ id: string; relationshipId: string; client: TestClient }> {
  const id = await organization(t, name);
  const rel = await ok(
    t.admin.post('/api/v1/relationships', { type: 'prm.partner', fromPartyId: t.selfPartyId, toPartyId: id, status: 'active', attributes: { kind: 'reseller', program: 'Resell', tier: 'silver' } }),
    201,
  );
  return { id, relationshipId: rel.id, client: await t.clientFor({ roles, scopePartyId: id }) };
}

export function expectStatus(res: { status: number; text: string }, status: number) {
  expect(res.status, res.text).toBe(status);
}

/** Stands in for CRM's side of the extension point: opens a "deal" for each approved registration. */
export const salesPlugin = definePlugin({
  name: 'sales',
  version: '1.0.0',
  setup(api) {
    api.hooks.filter(prm.filters.registrationConvert, ({ registration }) => {
      if (registration.customerName === 'Veto Corp') throw new VetoError('sales: no deals with Veto Corp');
      return { registration, dealId: `deal-${registration.id}` };
    });
  },
});
