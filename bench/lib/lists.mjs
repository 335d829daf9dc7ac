// 7. List flatness (PostgreSQL): every main list route of the kernel and the first-party
// plugins, through the whole HTTP stack, at 1M parties and 1M interactions (quick: 20k). For
// each list and order, the first page and a page 90% deep (a keyset cursor taken from the
// data), interleaved; the figure is deep/first at p50 and at p99, goal ≤ 1.5 each: a list
// whose plan sorts or scans the tenant's table grows with depth and misses by far.
// Seeded with set-based SQL (generate_series), then ANALYZEd as an import leaves it.
import os from 'node:os';
import { benchLimits, databaseUrl, interleave, loadCore, loadFirstPartyPlugins, now, pgSchema, stats } from './common.mjs';

export async function listBenchmarks({ quick }) {
  const rows = Number(process.env.BENCH_LIST_ROWS ?? (quick ? 20_000 : 1_000_000));
  const pluginRows = Math.max(2_000, Math.round(rows / 10));
  const core = await loadCore();
  const plugins = await loadFirstPartyPlugins();
  const pg = await pgSchema('lists');
  const app = await core.createRapport({
    database: { url: databaseUrl, schema: pg.schema },
    plugins,
    logLevel: 'silent',
    dispatcher: { enabled: false },
    scheduler: { enabled: false },
    limits: benchLimits,
  });
  try {
    const tenantId = app.defaultTenant.id;
    const key = await core.createApiKey(app.knex, tenantId, { name: 'bench', roles: ['admin'] });
    const server = await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${server.address().port}/api/v1`;
    const headers = { authorization: `Bearer ${key.token}` };
    const call = async (method, path, body) => {
      const res = await fetch(`${base}${path}`, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return text ? JSON.parse(text) : undefined;
    };

    // Records the plugins' lists need, made through the API; the volume is copied by SQL.
    const pipeline = await call('POST', '/crm/pipelines', { name: 'Bench', stages: [{ name: 'Open' }, { name: 'Won', outcome: 'won' }] });
    const account = await call('POST', '/parties', { kind: 'organization', name: 'Bench Account' });
    const partner = await call('POST', '/parties', { kind: 'organization', name: 'Bench Partner' });
    const partnership = await call('POST', '/relationships', {
      type: 'prm.partner',
      fromPartyId: app.defaultTenant.selfPartyId,
      toPartyId: partner.id,
      status: 'active',
      attributes: { kind: 'reseller', program: 'Resell', tier: 'silver' },
    });
    const unit = await call('POST', '/hrm/units', { name: 'Bench unit', parentId: null });
    await call('POST', '/hrm/employees', { person: { name: 'Bench Employee' }, unitId: unit.id, managerId: null, start: '2025-01-01T00:00:00.000Z' });

    const seedStarted = now();
    const words = `(array['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka'])[1 + g % 8] || ' ' || md5(g::text)`;
    await app.knex.raw(
      `insert into rapport_parties (tenant_id, id, kind, name, attributes, version, created_at, updated_at)
       select ?, gen_random_uuid(), case when g % 3 = 0 then 'organization' else 'person' end, ${words}, '{}', 1, now(), now() from generate_series(1, ?) g`,
      [tenantId, rows],
    );
    await app.knex.raw(
      `insert into rapport_interactions (tenant_id, id, type, occurred_at, direction, subject, attributes, version, created_at)
       select ?, gen_random_uuid(), case when g % 4 = 0 then 'crm.call' else 'crm.note' end, timestamptz '2026-01-01T00:00:00Z' - g * interval '1 second', 'internal', 'Note ' || g, '{}', 1, now()
       from generate_series(1, ?) g`,
      [tenantId, rows],
    );
    await app.knex.raw(
      `insert into rapport_observations (tenant_id, id, indicator, subject_type, subject_id, value, observed_at)
       select ?, gen_random_uuid(), 'bench.score', 'party', gen_random_uuid(), g % 11, timestamptz '2026-01-01T00:00:00Z' - g * interval '1 second' from generate_series(1, ?) g`,
      [tenantId, pluginRows],
    );
    await app.knex.raw(
      `insert into rapport_relationships (tenant_id, id, type, from_party_id, to_party_id, from_role, to_role, status)
       select ?, gen_random_uuid(), 'crm.customer', ?, id, 'vendor', 'customer', 'active' from rapport_parties where tenant_id = ? and kind = 'organization' limit ?`,
      [tenantId, app.defaultTenant.selfPartyId, tenantId, pluginRows],
    );
    await app.knex.raw(
      `insert into rapport_relationships (tenant_id, id, type, from_party_id, to_party_id, from_role, to_role, status, valid_from, attributes)
       select e.tenant_id, gen_random_uuid(), e.type, e.from_party_id, p.id, e.from_role, e.to_role, e.status, e.valid_from, e.attributes
       from (select * from rapport_relationships where tenant_id = ? and type = 'hrm.employment' limit 1) e,
            (select id from rapport_parties where tenant_id = ? and kind = 'person' limit ?) p`,
      [tenantId, tenantId, pluginRows],
    );
    await app.knex.raw(
      `insert into crm_deals (tenant_id, id, pipeline_id, stage_id, title, amount, currency, account_id, status, version, created_at, updated_at)
       select ?, gen_random_uuid(), ?, ?, ${words}, g, 'EUR', ?, 'open', 1, now(), now() from generate_series(1, ?) g`,
      [tenantId, pipeline.id, pipeline.stages[0].id, account.id, pluginRows],
    );
    await app.knex.raw(
      `insert into prm_registrations (tenant_id, id, partner_id, relationship_id, customer_name, customer_key, value, currency, expected_close_date, status, version, created_at, updated_at)
       select ?, gen_random_uuid(), ?, ?, n.name, lower(n.name), g, 'EUR', '2027-01-01', 'submitted', 1, timestamptz '2026-01-01T00:00:00Z' - g * interval '1 second', now()
       from generate_series(1, ?) g, lateral (select ${words} as name) n`,
      [tenantId, partner.id, partnership.id, pluginRows],
    );
    const analyzed = await core.refreshStatistics(app.knex);
    const seedSeconds = (now() - seedStarted) / 1000;

    const cursorAt = async (sql, depth) => {
      const row = (await app.knex.raw(`${sql} offset ? limit 1`, [tenantId, depth])).rows[0];
      return core.encodeCursor(Object.values(row).map((v) => (v instanceof Date ? v.toISOString() : String(v))));
    };
    const deepOf = (n) => Math.floor(n * 0.9);
    const employed = `exists (select 1 from rapport_relationships r where r.tenant_id = p.tenant_id and r.type = 'hrm.employment' and r.to_party_id = p.id)`;
    const lists = [
      { name: 'GET /parties (newest first)', path: '/parties?limit=50', deep: ['select id from rapport_parties where tenant_id = ? and archived_at is null order by id desc', rows] },
      {
        name: 'GET /parties?sort=name',
        path: '/parties?limit=50&sort=name',
        deep: ['select lower(name) collate "C", id from rapport_parties where tenant_id = ? and archived_at is null order by 1, 2', rows],
      },
      {
        name: 'GET /parties?sort=-name',
        path: '/parties?limit=50&sort=-name',
        deep: ['select lower(name) collate "C", id from rapport_parties where tenant_id = ? and archived_at is null order by 1 desc, 2 desc', rows],
      },
      {
        name: 'GET /parties?kind=organization',
        path: '/parties?limit=50&kind=organization',
        deep: ["select id from rapport_parties where tenant_id = ? and kind = 'organization' and archived_at is null order by id desc", rows / 3],
      },
      {
        name: 'GET /interactions (tenant-wide)',
        path: '/interactions?limit=20',
        deep: ['select occurred_at, id from rapport_interactions where tenant_id = ? order by occurred_at desc, id desc', rows],
      },
      {
        name: 'GET /interactions?type=crm.call',
        path: '/interactions?limit=20&type=crm.call',
        deep: ["select occurred_at, id from rapport_interactions where tenant_id = ? and type = 'crm.call' order by occurred_at desc, id desc", rows / 4],
      },
      { name: 'GET /observations', path: '/observations?limit=50', deep: ['select observed_at, id from rapport_observations where tenant_id = ? order by observed_at desc, id desc', pluginRows] },
      { name: 'GET /relationships', path: '/relationships?limit=50', deep: ['select id from rapport_relationships where tenant_id = ? order by id desc', pluginRows * 2] },
      { name: 'GET /crm/deals', path: '/crm/deals?limit=50', deep: ['select id from crm_deals where tenant_id = ? order by id desc', pluginRows] },
      { name: 'GET /crm/deals?sort=title', path: '/crm/deals?limit=50&sort=title', deep: ['select lower(title) collate "C", id from crm_deals where tenant_id = ? order by 1, 2', pluginRows] },
      { name: 'GET /prm/registrations', path: '/prm/registrations?limit=50', deep: ['select created_at, id from prm_registrations where tenant_id = ? order by created_at desc, id desc', pluginRows] },
      {
        name: 'GET /prm/registrations?sort=customerName',
        path: '/prm/registrations?limit=50&sort=customerName',
        deep: ['select lower(customer_name) collate "C", id from prm_registrations where tenant_id = ? order by 1, 2', pluginRows],
      },
      {
        name: 'GET /hrm/employees',
        path: '/hrm/employees?limit=50',
        deep: ["select distinct to_party_id from rapport_relationships where tenant_id = ? and type = 'hrm.employment' order by 1", pluginRows],
      },
      {
        name: 'GET /hrm/employees?sort=name',
        path: '/hrm/employees?limit=50&sort=name',
        deep: [`select lower(name) collate "C", id from rapport_parties p where tenant_id = ? and ${employed} order by 1, 2`, pluginRows],
      },
    ];

    const perRound = quick ? 5 : 100;
    const results = [];
    for (const list of lists) {
      const depth = deepOf(list.deep[1]);
      const cursor = await cursorAt(list.deep[0], depth);
      const deepPath = `${list.path}&cursor=${cursor}`;
      const page = async (path) => {
        const body = await call('GET', path);
        if (!Array.isArray(body.data) || body.data.length === 0) throw new Error(`${path}: an empty page`);
      };
      const timed = async (path) => {
        const samples = [];
        for (let i = 0; i < perRound; i++) {
          const t0 = now();
          await page(path);
          samples.push(now() - t0);
        }
        return samples;
      };
      const measured = await interleave({ first: () => timed(list.path), deep: () => timed(deepPath) }, { rounds: quick ? 3 : 5, warmup: 1 });
      const first = stats(measured.first.flat());
      const deep = stats(measured.deep.flat());
      const detail = { rows, pluginRows, depth, seedSeconds, analyzed: analyzed.length, load: os.loadavg()[0], first, deep };
      for (const q of ['p50', 'p99']) {
        results.push({
          name: `lists: ${list.name}, row ${depth.toLocaleString('en-US')} vs first page, ${q}`,
          db: 'postgres',
          baseline: first[q],
          measured: deep[q],
          unit: 'ms',
          ratio: deep[q] / first[q],
          goal: '<= 1.5',
          detail,
        });
      }
    }
    return results;
  } finally {
    await app.close();
    await pg.drop();
  }
}
