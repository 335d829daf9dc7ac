import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRapportClient, ok } from '@rapport/client';
import { createTestApp, type TestApp } from '@rapport/testing';
import crm from '@rapport/plugin-crm';
import prm from '@rapport/plugin-prm';
import hrm from '@rapport/plugin-hrm';

/*
 * docs/recipes.md promises that its `sh` blocks work against the current code: this runs
 * each recipe (after the "Before you start" block) in bash with curl, against test systems.
 */
const recipes = fs.readFileSync(fileURLToPath(new URL('../../../docs/recipes.md', import.meta.url)), 'utf8');

function shellOf(section: string): string {
  const start = recipes.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`docs/recipes.md has no section "${section}"`);
  const end = recipes.indexOf('\n## ', start + 1);
  const text = recipes.slice(start, end < 0 ? undefined : end);
  const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (blocks.length === 0) throw new Error(`section "${section}" has no sh block`);
  return blocks.join('\n');
}

function runRecipe(section: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = ['set -euo pipefail', shellOf('Before you start'), shellOf(section)].join('\n');
  return new Promise((resolve) => {
    // Asynchronous: the servers answering curl run in this process.
    execFile('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, timeout: 60_000, maxBuffer: 10_000_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('docs/recipes.md', () => {
  let ours: TestApp;
  let theirs: TestApp;
  let hrOnly: TestApp;
  const api = (t: TestApp) => `${t.baseUrl}/api/v1`;

  beforeAll(async () => {
    [ours, theirs, hrOnly] = await Promise.all([createTestApp({ plugins: [crm, prm, hrm] }), createTestApp({ plugins: [crm] }), createTestApp({ plugins: [hrm] })]);
  });
  afterAll(async () => {
    await Promise.all([ours?.close(), theirs?.close(), hrOnly?.close()]);
  });

  it('Partner portal', async () => {
    const run = await runRecipe('Partner portal', { API: api(ours), KEY: ours.adminToken });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['403', 'approved', 'claimed', '404', '1']));
    const client = createRapportClient({ baseUrl: ours.baseUrl, apiKey: ours.adminToken });
    const registrations = ok(await client.GET('/api/v1/prm/registrations')).data;
    expect(registrations.map((r) => [r.customerName, r.status])).toEqual([['Initech', 'approved']]);
    expect(lines).toContain(registrations[0].dealId);
    expect(ok(await client.GET('/api/v1/prm/mdf/requests')).data.map((r) => [r.status, r.claimedAmount])).toEqual([['claimed', 4200]]);
  });

  it("Role reversal: the firm as buyer, talking to its supplier's system", async () => {
    const run = await runRecipe("Role reversal: the firm as buyer, talking to its supplier's system", {
      API: api(ours),
      KEY: ours.adminToken,
      THEIR_API: api(theirs),
      THEIR_KEY: theirs.adminToken,
    });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['Steelworks quotes 8400 EUR', 'customer', 'vendor']));
    const client = createRapportClient({ baseUrl: ours.baseUrl, apiKey: ours.adminToken });
    const orders = ok(await client.GET('/api/v1/prm/purchase-orders')).data;
    expect(orders.map((o) => [o.reference, o.deliveries.length])).toEqual([['PO-2001', 1]]);
    const steel = orders[0].supplierId;
    const timeline = ok(await client.GET('/api/v1/parties/{id}/timeline', { params: { path: { id: steel }, query: { type: 'crm.quote-received' } } })).data;
    expect(timeline.map((i) => i.attributes)).toEqual([expect.objectContaining({ amount: 8400, currency: 'EUR' })]);
  });

  it('HRM first: internal marketing before any customer', async () => {
    const run = await runRecipe('HRM first: internal marketing before any customer', { API: api(hrOnly), KEY: hrOnly.adminToken });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['Tom Berg', '404', 'closed']));
    expect(lines.at(-2)!.split(' ').sort()).toEqual(['hrm.request', 'hrm.survey-participation']);
    const client = createRapportClient({ baseUrl: hrOnly.baseUrl, apiKey: hrOnly.adminToken });
    const units = ok(await client.GET('/api/v1/hrm/units')).data;
    const it = units.find((u) => u.name === 'IT')!;
    expect(ok(await client.GET('/api/v1/observations', { params: { query: { indicator: 'hrm.csat', subjectId: it.id } } })).data.map((o) => o.value)).toEqual([5]);
  });
});
