import { CORE_VERSION } from '@rapport/core';
import type { PluginNames } from './names.js';

/**
 * The files of a new plugin package, by path. Template strings rather than files on disk:
 * they are bundled into the CLI, so `rapport create-plugin` works from any install.
 * What they generate is checked by packages/cli/test/create-plugin.test.ts (it
 * typechecks the files and runs the plugin in a real system).
 */
export function pluginFiles(names: PluginNames): Record<string, string> {
  return {
    'package.json': packageJson(names),
    'tsup.config.ts': TSUP_CONFIG,
    'tsconfig.json': TSCONFIG,
    'vitest.config.ts': VITEST_CONFIG,
    '.gitignore': 'node_modules/\ndist/\n',
    'src/index.ts': pluginSource(names),
    'test/plugin.test.ts': pluginTest(names),
    'README.md': readme(names),
  };
}

/** `^0.1.0` for core 0.1.x: a plugin written today keeps working with later compatible versions. */
const coreRange = () => `^${CORE_VERSION}`;

function packageJson({ packageName, title }: PluginNames): string {
  const pkg = {
    name: packageName,
    version: '0.1.0',
    description: `${title}: a Rapport plugin`,
    license: 'MIT',
    keywords: ['rapport', 'rapport-plugin'],
    type: 'module',
    main: './dist/index.cjs',
    module: './dist/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': {
        import: { types: './dist/index.d.ts', default: './dist/index.js' },
        require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
      },
      './package.json': './package.json',
    },
    files: ['dist'],
    scripts: { build: 'tsup', test: 'vitest run', typecheck: 'tsc --noEmit', prepublishOnly: 'npm run typecheck && npm test && npm run build' },
    // The system that installs the plugin provides @rapport/core; `requires.core` is checked at start.
    peerDependencies: { '@rapport/core': coreRange() },
    dependencies: { zod: '^4.1.0' },
    devDependencies: {
      '@rapport/core': coreRange(),
      '@rapport/testing': coreRange(),
      '@types/node': '^20.19.0',
      tsup: '^8.5.0',
      typescript: '^6.0.3',
      vitest: '^3.2.4',
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

const TSUP_CONFIG = `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Provided by the system that installs the plugin: never bundle a second copy.
  external: ['@rapport/core'],
});
`;

const TSCONFIG = `{
  "compilerOptions": {
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "lib": ["ES2023"],
    "types": ["node"],
    "strict": true,
    "esModuleInterop": true,
    "skipLibCheck": true,
    "isolatedModules": true,
    "noEmit": true,
    // tsup's .d.ts build sets baseUrl, which TypeScript 6 reports as deprecated.
    "ignoreDeprecations": "6.0"
  },
  "include": ["src", "test", "*.config.ts"]
}
`;

const VITEST_CONFIG = `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test file starts a whole system on a fresh database (PGlite, or PostgreSQL with RAPPORT_TEST_DB=postgres).
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
`;

function pluginSource({ name, table, title }: PluginNames): string {
  return `import { z } from 'zod';
import { decodeCursor, definePlugin, newId, pageOf, pageQuery, toPage, VetoError, type PluginDefinition } from '@rapport/core';

/** An item of this plugin, as the API returns it. */
export interface Item {
  id: string;
  partyId: string;
  title: string;
  createdAt: string;
}

/*
 * Typed events: listeners (api.hooks.on) and uow.emit of '${name}.item.created' get this
 * payload. Declare every event the plugin emits here.
 */
declare module '@rapport/core' {
  interface HookMap {
    '${name}.item.created': { item: Item };
  }
}

const TABLE = '${table}';

interface ItemRow {
  tenant_id: string;
  id: string;
  party_id: string;
  title: string;
  created_at: Date | string;
}

const itemSchema = z.object({ id: z.uuid(), partyId: z.uuid(), title: z.string(), createdAt: z.iso.datetime() });

const toItem = (row: ItemRow): Item => ({
  id: row.id,
  partyId: row.party_id,
  title: row.title,
  createdAt: new Date(row.created_at).toISOString(),
});

// Typed as PluginDefinition so the published .d.ts names only @rapport/core's types (not knex's).
const plugin: PluginDefinition = definePlugin({
  name: '${name}',
  version: '0.1.0',
  description: '${title}',
  requires: { core: '${coreRange()}' },
  migrations: [
    {
      name: '0001_items',
      up: (knex) =>
        knex.schema.createTable(TABLE, (t) => {
          // Every table leads with tenant_id: each query is scoped by tenant.
          t.uuid('tenant_id').notNullable();
          t.uuid('id').notNullable();
          t.uuid('party_id').notNullable();
          t.text('title').notNullable();
          t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
          t.primary(['tenant_id', 'id']);
          t.index(['tenant_id', 'party_id']);
        }),
      // What \`rapport plugins uninstall --purge\` runs.
      down: (knex) => knex.schema.dropTable(TABLE),
    },
  ],
  setup(api) {
    api.permissions.define({ key: '${name}.items:read', description: 'Read ${title} items' });
    api.permissions.define({ key: '${name}.items:write', description: 'Create ${title} items' });

    // A scoped principal (a partner's key, say) sees only the items of its own party.
    api.recordScopes.define('${name}.items', ({ db, tenantId, partyId }) =>
      db(TABLE).select('id').where({ tenant_id: tenantId, party_id: partyId }),
    );

    // A filter runs inside the kernel's transaction and may veto the write (422, nothing written).
    api.hooks.filter('party.archive', async ({ party }, ctx) => {
      const item = await ctx.trx(TABLE).where({ tenant_id: ctx.tenantId, party_id: party.id }).first('id');
      if (item) throw new VetoError('${name}: party ' + party.id + ' still has items; remove them before archiving it');
    });

    // A listener runs after commit; its failure is logged and never undoes the write.
    api.hooks.on('${name}.item.created', ({ item }, meta) => {
      api.logger.info({ itemId: item.id, partyId: item.partyId, eventId: meta.id }, 'item created');
    });

    // Mounted under /api/v1/${name}.
    api.routes((r) => {
      r.get('/items', {
        summary: 'List items, newest first',
        permission: '${name}.items:read',
        query: z.strictObject({ ...pageQuery, partyId: z.uuid().optional() }),
        response: pageOf(itemSchema),
        handler: async (ctx) => {
          const after = decodeCursor(ctx.query.cursor, ['uuid']);
          const query = ctx.db<ItemRow>(TABLE).where({ tenant_id: ctx.tenantId }).orderBy('id', 'desc').limit(ctx.query.limit + 1);
          if (ctx.query.partyId) query.where('party_id', ctx.query.partyId);
          if (after) query.where('id', '<', after[0]);
          // The caller's record scope: a scoped principal gets only what it may see.
          const scoped = ctx.app.scopes.apply(query, { db: ctx.db, tenantId: ctx.tenantId, principal: ctx.principal }, '${name}.items', 'id');
          const rows: ItemRow[] = await scoped;
          return toPage(rows, ctx.query.limit, toItem, (row) => [row.id]);
        },
      });

      r.post('/items', {
        summary: 'Create an item for a party',
        permission: '${name}.items:write',
        body: z.strictObject({ partyId: z.uuid(), title: z.string().trim().min(1).max(200) }),
        response: itemSchema,
        handler: (ctx) =>
          // One unit of work: the row, the event in the outbox and the audit entry commit together.
          ctx.transaction(async (uow) => {
            // 404 unless the party exists and the caller's scope includes it.
            await ctx.app.services.parties.get(uow, ctx.body.partyId);
            const [row] = await uow
              .trx<ItemRow>(TABLE)
              .insert({ tenant_id: uow.tenantId, id: newId(), party_id: ctx.body.partyId, title: ctx.body.title })
              .returning('*');
            const item = toItem(row);
            uow.emit('${name}.item.created', { item }, { type: '${name}.item', id: item.id });
            return item;
          }),
      });
    });
  },
});

export default plugin;
`;
}

function pluginTest({ name }: PluginNames): string {
  return `import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '@rapport/testing';
import plugin from '../src/index.js';

describe('${name} plugin', () => {
  let t: TestApp;
  let partyId: string;

  beforeAll(async () => {
    t = await createTestApp({ plugins: [plugin] });
    const party = await t.admin.post('/api/v1/parties', { kind: 'organization', name: 'Acme' });
    expect(party.status).toBe(201);
    partyId = party.body.id;
  });
  afterAll(() => t?.close());

  it('creates an item, lists it and emits ${name}.item.created', async () => {
    const created = await t.admin.post('/api/v1/${name}/items', { partyId, title: 'First item' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ partyId, title: 'First item' });

    const list = await t.admin.get('/api/v1/${name}/items');
    expect(list.status).toBe(200);
    expect(list.body.data.map((i: { id: string }) => i.id)).toEqual([created.body.id]);

    const events = await t.outbox({ name: '${name}.item.created' });
    expect(events.map((e) => e.payload.item.id)).toEqual([created.body.id]);
  });

  it('refuses bad input with a problem and writes nothing', async () => {
    const bad = await t.admin.post('/api/v1/${name}/items', { partyId, title: '' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const missing = await t.admin.post('/api/v1/${name}/items', { partyId: '00000000-0000-4000-8000-000000000000', title: 'x' });
    expect(missing.status).toBe(404);
  });

  it('vetoes archiving a party that still has items', async () => {
    const archive = await t.admin.post('/api/v1/parties/' + partyId + '/archive');
    expect(archive.status).toBe(422);
    expect(archive.body.detail).toContain('still has items');
  });
});
`;
}

function readme({ name, packageName, title }: PluginNames): string {
  return `# ${title}

A [Rapport](https://github.com/rapport) plugin, scaffolded by \`rapport create-plugin ${name}\`.

| | |
|---|---|
| routes | \`GET\`, \`POST /api/v1/${name}/items\` |
| permissions | \`${name}.items:read\`, \`${name}.items:write\` |
| record scope | \`${name}.items\`: a scoped principal sees the items of its own party |
| filter | \`party.archive\`: vetoes archiving a party that still has items |
| events | \`${name}.item.created\` \`{ item }\` (listened to in \`src/index.ts\`) |
| table | created by migration \`0001_items\`, dropped by its \`down\` |

## Develop

\`\`\`sh
npm install
npm test            # a whole system on an in-memory PGlite; RAPPORT_TEST_DB=postgres for PostgreSQL
npm run typecheck
npm run build       # dist/: ESM, CJS and .d.ts
\`\`\`

## Use it in a system

\`\`\`sh
npm install ${packageName}
\`\`\`

\`\`\`ts
// rapport.config.ts
export default { plugins: ['@rapport/plugin-crm', '${packageName}'] };
\`\`\`

\`rapport migrate\` (or \`rapport serve\`) creates its table; its routes appear in the API
reference at \`/docs\`. Give a role the permissions \`${name}.items:read\` and
\`${name}.items:write\` to use them.
`;
}
