import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '@rapport/testing';
import { rapport } from './helpers.js';
import { scaffoldLoyaltyPlugin, type ScaffoldedSystem } from './scaffold.js';

describe('rapport create-plugin', { timeout: 120_000 }, () => {
  let system: ScaffoldedSystem;
  let tmp: string;
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    system = await scaffoldLoyaltyPlugin();
    ({ tmp, dir, t } = system);
  });
  afterAll(() => system?.close());

  it('writes a package with build config, sources, a test and a README', () => {
    const files = ['package.json', 'tsup.config.ts', 'tsconfig.json', 'vitest.config.ts', 'src/index.ts', 'test/plugin.test.ts', 'README.md', 'console/index.tsx', 'console/ItemsPage.tsx'];
    for (const file of files) expect(fs.existsSync(path.join(dir, file)), file).toBe(true);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    expect(pkg.name).toBe('rapport-plugin-loyalty-points');
    expect(pkg.peerDependencies['@rapport/core']).toBe(`^${t.app.version}`);
    // The console part's packages are optional: a server-only install needs no React.
    const consolePeers = Object.keys(pkg.peerDependencies).filter((peer) => peer !== '@rapport/core');
    expect(consolePeers.sort()).toEqual(['@mantine/core', '@rapport/console-sdk', '@tanstack/react-query', 'react']);
    for (const peer of consolePeers) expect(pkg.peerDependenciesMeta[peer], peer).toEqual({ optional: true });
    expect(pkg.exports['./console'].import).toBe('./dist/console/index.js');
    // One console page, listed for holders of the read permission, lazily loaded.
    const consoleEntry = fs.readFileSync(path.join(dir, 'console/index.tsx'), 'utf8');
    expect(consoleEntry).toContain("path: 'loyalty-points/items'");
    expect(consoleEntry).toContain("permission: 'loyalty-points.items:read'");
    expect(consoleEntry).toContain("import('./ItemsPage.js')");
    // One copy of core: the system's. The plugin's own copy is for its tests only.
    expect(pkg.dependencies).not.toHaveProperty('@rapport/core');
    expect(pkg.devDependencies['@rapport/core']).toBe(pkg.peerDependencies['@rapport/core']);
    expect(fs.readFileSync(path.join(dir, 'tsup.config.ts'), 'utf8')).toContain("external: ['@rapport/core']");
    expect(pkg.dependencies).toHaveProperty('zod');
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['@rapport/testing', 'vitest', 'tsup']));
    expect(pkg.scripts).toMatchObject({ build: 'tsup', test: 'vitest run' });
    expect(fs.readFileSync(path.join(dir, 'tsup.config.ts'), 'utf8')).toContain("format: ['esm', 'cjs']");
  });

  it('points its README at the plugin guide shipped in @rapport/cli, and at no web address', () => {
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('node_modules/@rapport/cli/docs/plugin-guide.md');
    expect(readme).not.toMatch(/https?:\/\//);
    expect(readme).toContain('npm install ../loyalty-points/rapport-plugin-loyalty-points-0.1.0.tgz');
  });

  it('migrates a tenant-keyed table and registers its permissions', async () => {
    const columns = await t.app
      .knex('information_schema.columns')
      .where({ table_name: 'loyalty_points_items' })
      .whereRaw('table_schema = current_schema()')
      .orderBy('ordinal_position')
      .pluck('column_name');
    expect(columns[0]).toBe('tenant_id');
    const permissions = (await t.admin.get('/api/v1/meta/permissions')).body;
    expect(JSON.stringify(permissions)).toContain('loyalty-points.items:write');
  });

  it('serves its routes: creates in a unit of work, lists within the caller’s record scope', async () => {
    const acme = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme' })).body;
    const globex = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Globex' })).body;
    const first = await t.admin.post('/api/v1/loyalty-points/items', { partyId: acme.id, title: 'Welcome bonus' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ partyId: acme.id, title: 'Welcome bonus' });
    const second = await t.admin.post('/api/v1/loyalty-points/items', { partyId: globex.id, title: 'Referral' });
    expect(second.status).toBe(201);

    const all = await t.admin.get('/api/v1/loyalty-points/items?limit=1');
    expect(all.body.data.map((i: { id: string }) => i.id)).toEqual([second.body.id]);
    const rest = await t.admin.get(`/api/v1/loyalty-points/items?limit=1&cursor=${all.body.nextCursor}`);
    expect(rest.body).toEqual({ data: [first.body], nextCursor: null, prevCursor: expect.any(String) });
    const back = await t.admin.get(`/api/v1/loyalty-points/items?limit=1&cursor=${rest.body.prevCursor}`);
    expect(back.body).toEqual({ data: [second.body], nextCursor: all.body.nextCursor });

    // A partner scoped to Acme sees Acme's item only, and cannot write for Globex.
    const partner = await t.clientFor({ roles: ['admin'], scopePartyId: acme.id });
    const seen = await partner.get('/api/v1/loyalty-points/items');
    expect(seen.status).toBe(200);
    expect(seen.body.data.map((i: { id: string }) => i.id)).toEqual([first.body.id]);
    const outside = await partner.post('/api/v1/loyalty-points/items', { partyId: globex.id, title: 'Not yours' });
    expect(outside.status).toBe(404);

    const bad = await t.admin.post('/api/v1/loyalty-points/items', { partyId: acme.id, title: '   ' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(Number((await t.app.knex('loyalty_points_items').count({ n: '*' }).first())!.n)).toBe(2);
  });

  it('emits its typed event to the outbox and to listeners', async () => {
    const recorded = t.recordEvents('loyalty-points.item.*');
    const party = (await t.admin.post('/api/v1/parties', { kind: 'person', name: 'Ada' })).body;
    const item = (await t.admin.post('/api/v1/loyalty-points/items', { partyId: party.id, title: 'Birthday' })).body;
    const events = await t.outbox({ name: 'loyalty-points.item.created' });
    expect(events.at(-1)?.payload).toEqual({ item });
    await t.app.settled();
    expect(recorded).toEqual([{ name: 'loyalty-points.item.created', payload: { item } }]);
  });

  it('vetoes archiving a party that still has items, and writes nothing', async () => {
    const party = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Initech' })).body;
    expect((await t.admin.post(`/api/v1/parties/${party.id}/archive`)).status).toBe(200);
    const kept = (await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Umbrella' })).body;
    await t.admin.post('/api/v1/loyalty-points/items', { partyId: kept.id, title: 'Points' });
    const vetoed = await t.admin.post(`/api/v1/parties/${kept.id}/archive`);
    expect(vetoed.status).toBe(422);
    expect(vetoed.body.detail).toBe(`loyalty-points: party ${kept.id} still has items; remove them before archiving it`);
    expect((await t.admin.get(`/api/v1/parties/${kept.id}`)).body.archivedAt).toBeNull();
    expect(await t.outbox({ name: 'party.archived' })).toHaveLength(1);
  });

  it('appears in the OpenAPI document shown at /docs', async () => {
    const doc = (await t.anonymous.get('/api/v1/openapi.json')).body;
    expect(Object.keys(doc.paths['/api/v1/loyalty-points/items'])).toEqual(['get', 'post']);
  });

  it('refuses bad and reserved names, and a directory that is not empty, writing nothing', async () => {
    for (const [name, message] of [
      ['Loyalty', /"Loyalty" is not a valid plugin name: use 1 to 40 lower-case letters/],
      ['9lives', /"9lives" is not a valid plugin name/],
      ['a'.repeat(41), /"a{41}" is not a valid plugin name/],
      ['parties', /"parties" is reserved by the kernel/],
      ['docs', /"docs" is reserved by the kernel/],
    ] as const) {
      const result = await rapport(['create-plugin', name, '--dir', `out-${name.length}`], { cwd: tmp });
      expect(result.code, name).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^rapport: ${message.source}`));
      expect(fs.existsSync(path.join(tmp, `out-${name.length}`))).toBe(false);
    }

    const before = fs.readdirSync(dir).sort();
    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    const again = await rapport(['create-plugin', 'loyalty-points', '--dir', 'plugins/loyalty'], { cwd: tmp });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^rapport: .*plugins\/loyalty is not empty \(.*\); choose an empty or new --dir\n$/);
    expect(fs.readdirSync(dir).sort()).toEqual(before);
    expect(fs.readFileSync(path.join(dir, 'README.md'), 'utf8')).toBe(readme);

    // Without --dir it writes ./<name>; an empty directory is fine.
    fs.mkdirSync(path.join(tmp, 'audits'));
    const plain = await rapport(['create-plugin', 'audits', '--dir', 'audits'], { cwd: tmp });
    expect(plain.code).toBe(0);
    const defaulted = await rapport(['create-plugin', 'quality'], { cwd: tmp });
    expect(defaulted.code).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'quality/src/index.ts'))).toBe(true);
  });
});
