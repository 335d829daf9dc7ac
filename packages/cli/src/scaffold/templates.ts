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
    '.gitignore': 'node_modules/\ndist/\n*.tgz\n',
    'src/index.ts': pluginSource(names),
    'console/index.tsx': consoleSource(names),
    'console/ItemsPage.tsx': consolePageSource(names),
    'src/contract.ts': contractSource(names),
    'src/records.ts': recordsSource(),
    'src/deps.ts': depsSource(),
    'src/migrations.ts': migrationsSource(names),
    'src/declarations.ts': declarationsSource(names),
    'src/services/items.ts': serviceSource(names),
    'src/routes/items.ts': routesSource(names),
    'src/hooks/items.ts': hooksSource(names),
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
      // The plugin's part of the Rapport console (optional: a server-only install needs no React).
      './console': { import: './dist/console/index.js', default: './dist/console/index.js' },
      './package.json': './package.json',
    },
    files: ['dist'],
    scripts: { build: 'tsup', test: 'vitest run', typecheck: 'tsc --noEmit', prepublishOnly: 'npm run typecheck && npm test && npm run build' },
    // The system that installs the plugin provides @rapport/core; `requires.core` is checked at start.
    peerDependencies: { '@rapport/core': coreRange(), ...CONSOLE_PEERS },
    peerDependenciesMeta: Object.fromEntries(Object.keys(CONSOLE_PEERS).map((peer) => [peer, { optional: true }])),
    dependencies: { zod: '^4.1.0' },
    // @rapport/core again, for the tests only; @rapport/cli for `npx rapport serve` and the plugin guide it ships.
    devDependencies: {
      '@rapport/cli': coreRange(),
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

/** What the console part imports: the console provides each, one copy for every plugin. */
const CONSOLE_PEERS = { react: '^19.2.0', '@mantine/core': '^9.7.3', '@tanstack/react-query': '^5.80.0', '@rapport/console-sdk': coreRange() };

const TSUP_CONFIG = `import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: ['**', '!console/**'],
    target: 'node20',
    // Provided by the system that installs the plugin: never bundle a second copy.
    external: ['@rapport/core'],
  },
  {
    // The console part: browser ESM, bundled again by \`rapport console build\` with every import external.
    entry: { index: 'console/index.tsx' },
    outDir: 'dist/console',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    clean: true,
    splitting: true,
    external: [/^[^./]/],
    esbuildOptions(options) {
      options.jsx = 'automatic';
    },
  },
]);
`;

function consoleSource({ name, title }: PluginNames): string {
  return `import { defineConsolePlugin } from '@rapport/console-sdk';

/** The plugin's part of the Rapport console: one page, listed in the navigation for holders of the read permission. */
export default defineConsolePlugin({
  id: '${name}',
  messages: {
    en: { 'nav.items': '${title}', 'items.none': 'No items yet.' },
    uk: { 'nav.items': '${title}', 'items.none': 'Записів ще немає.' },
  },
  pages: [{ path: '${name}/items', title: 'nav.items', permission: '${name}.items:read', component: () => import('./ItemsPage.js') }],
});
`;
}

function consolePageSource({ name }: PluginNames): string {
  return `import { Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
// Loading, Failure and PageHeader are the console's own pieces, translated by the console.
import { Failure, Loading, PageHeader, useApi, useFormat, useT } from '@rapport/console-sdk';

interface Item {
  id: string;
  title: string;
  createdAt: string;
}

/** The items, read with the signed-in user's own session (the API checks its permissions and scope). */
export default function ItemsPage() {
  const t = useT('${name}');
  const format = useFormat();
  const { client } = useApi();
  const items = useQuery({
    queryKey: ['${name}', 'items'],
    queryFn: async () => {
      // The session's client (cookie and CSRF header); it is typed for the kernel's paths, not this plugin's.
      const untyped = client as unknown as { GET(path: string): Promise<{ data?: { data: Item[] }; error?: unknown }> };
      const { data, error } = await untyped.GET('/api/v1/${name}/items');
      if (error || !data) throw error ?? new Error('${name}: items');
      return data.data;
    },
  });
  return (
    <>
      <PageHeader title={t('nav.items')} />
      {items.isPending ? (
        <Loading />
      ) : items.error ? (
        <Failure error={items.error} onRetry={() => void items.refetch()} />
      ) : items.data.length === 0 ? (
        <Text>{t('items.none')}</Text>
      ) : (
        <Table>
          <Table.Tbody>
            {items.data.map((item) => (
              <Table.Tr key={item.id}>
                <Table.Td translate="no">{item.title}</Table.Td>
                <Table.Td>{format.date(item.createdAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </>
  );
}
`;
}

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

/*
 * The plugin's sources, in the one shape every Rapport plugin has (docs/plugin-guide.md):
 * contract, records, deps, declarations, migrations, a service that owns the SQL, thin routes,
 * hooks, and an index that only composes them.
 */
function contractSource({ name }: PluginNames): string {
  return `import { defineContract, event } from '@rapport/core';
import type { Item } from './records.js';

/**
 * What other plugins may use of this one: its events (and services, filters), typed. A plugin
 * that others build on publishes this file as a small package of its own.
 */
export const contract = defineContract('${name}', {
  events: {
    itemCreated: event<{ item: Item }>('item.created'),
  },
});
`;
}

function recordsSource(): string {
  return `import { z } from 'zod';
import { defineRecord, isoTimestamp } from '@rapport/core';

/** An item, declared once: the API shape, its TypeScript type, and (derived) its row mapper and columns. */
export const itemSchema = z.object({
  id: z.uuid(),
  partyId: z.uuid(),
  title: z.string(),
  createdAt: isoTimestamp,
});
export type Item = z.infer<typeof itemSchema>;
export const itemRecord = defineRecord(itemSchema);
`;
}

function depsSource(): string {
  return `import { coreServices, type ResolvedDeps } from '@rapport/core';

/** What the plugin uses of the kernel; it receives exactly these, typed. */
export const deps = {
  db: coreServices.database,
  parties: coreServices.parties,
  scopes: coreServices.scopes,
} as const;

export type Deps = ResolvedDeps<typeof deps>;
`;
}

function migrationsSource({ table }: PluginNames): string {
  return `import type { Migration } from '@rapport/core';

export const ITEMS = '${table}';

export const migrations: Migration[] = [
  {
    name: '0001_items',
    up: (knex) =>
      knex.schema.createTable(ITEMS, (t) => {
        // Every table leads with tenant_id: the database handle scopes each query by it.
        t.uuid('tenant_id').notNullable();
        t.uuid('id').notNullable();
        t.uuid('party_id').notNullable();
        t.text('title').notNullable();
        t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
        t.primary(['tenant_id', 'id']);
        t.index(['tenant_id', 'party_id', 'id']);
      }),
    // What \`rapport plugins uninstall --purge\` runs.
    down: (knex) => knex.schema.dropTable(ITEMS),
  },
];
`;
}

function declarationsSource({ name, title }: PluginNames): string {
  return `import type { PluginApi } from '@rapport/core';
import { ITEMS } from './migrations.js';

export const PERMISSIONS = { read: '${name}.items:read', write: '${name}.items:write' } as const;
export const ITEMS_SCOPE = '${name}.items';

/** What the plugin adds to the kernel: permissions and a record scope (relationship and interaction types, indicators go here too). */
export function declare(api: PluginApi): void {
  api.permissions.define({ key: PERMISSIONS.read, description: 'Read ${title} items' });
  api.permissions.define({ key: PERMISSIONS.write, description: 'Create ${title} items' });
  // A scoped principal (a partner's key, say) sees only the items of its own party.
  api.recordScopes.define(ITEMS_SCOPE, ({ tables, partyId }) => tables(ITEMS).select('id').where('party_id', partyId));
}
`;
}

function serviceSource({ name }: PluginNames): string {
  return `import { keysetPage, newId, type Page, type QueryContext, type UnitOfWork } from '@rapport/core';
import { contract } from '../contract.js';
import { ITEMS_SCOPE } from '../declarations.js';
import type { Deps } from '../deps.js';
import { ITEMS } from '../migrations.js';
import { itemRecord, type Item } from '../records.js';

/**
 * Items: every query of the plugin is here. \`db.in(ctx)\` gives the plugin's tables in the
 * caller's tenant (every read filtered, every insert stamped), on the caller's connection.
 */
export class ItemService {
  constructor(private readonly deps: Deps) {}

  /** Newest first, within the caller's record scope. */
  list(ctx: QueryContext, query: { partyId?: string; limit: number; cursor?: string }): Promise<Page<Item>> {
    const items = this.deps.db.in(ctx)(\`\${ITEMS} as i\`).select(itemRecord.columns('i'));
    if (query.partyId) items.where('i.party_id', query.partyId);
    this.deps.scopes.apply(items, ctx, ITEMS_SCOPE, 'i.id');
    return keysetPage(items, query, [{ column: 'i.id', type: 'uuid', direction: 'desc' }], (rows: object[]) => rows.map((row) => itemRecord.fromRow(row)));
  }

  /** In the caller's unit of work: the row, its event and the audit entry commit together. */
  async create(uow: UnitOfWork, input: { partyId: string; title: string }): Promise<Item> {
    // 404 unless the party exists and the caller's scope includes it.
    await this.deps.parties.get(uow, input.partyId);
    const [row] = await this.deps.db.in(uow)(ITEMS).insert({ id: newId(), party_id: input.partyId, title: input.title }).returning(itemRecord.columns());
    const item = itemRecord.fromRow(row);
    uow.emit(contract.events.itemCreated, { item }, { type: '${name}.item', id: item.id });
    return item;
  }

  async hasItems(ctx: QueryContext, partyId: string): Promise<boolean> {
    return (await this.deps.db.in(ctx)(ITEMS).where('party_id', partyId).first('id')) !== undefined;
  }
}
`;
}

function routesSource({ name }: PluginNames): string {
  return `import { z } from 'zod';
import { pageOf, pageQuery, type RouteBuilder } from '@rapport/core';
import { PERMISSIONS } from '../declarations.js';
import { itemSchema } from '../records.js';
import type { ItemService } from '../services/items.js';

/** Mounted under /api/v1/${name}. Each route validates its input, calls the service and returns. */
export function itemRoutes(r: RouteBuilder, items: ItemService): void {
  r.get('/items', {
    summary: 'List items, newest first',
    permission: PERMISSIONS.read,
    // Scoped principals too: the service applies their record scope.
    audience: 'any',
    query: z.strictObject({ ...pageQuery, partyId: z.uuid().optional() }),
    response: pageOf(itemSchema),
    handler: (ctx) => items.list(ctx, ctx.query),
  });

  r.post('/items', {
    summary: 'Create an item for a party',
    permission: PERMISSIONS.write,
    audience: 'any',
    body: z.strictObject({ partyId: z.uuid(), title: z.string().trim().min(1).max(200) }),
    response: itemSchema,
    handler: (ctx) => ctx.transaction((uow) => items.create(uow, ctx.body)),
  });
}
`;
}

function hooksSource({ name }: PluginNames): string {
  return `import { VetoError, type PluginApi } from '@rapport/core';
import { contract } from '../contract.js';
import type { ItemService } from '../services/items.js';

export function itemHooks(api: PluginApi, items: ItemService): void {
  // A filter runs inside the kernel's transaction and may veto the write (422, nothing written).
  api.hooks.filter('party.archive', async ({ party }, uow) => {
    if (await items.hasItems(uow, party.id)) throw new VetoError('${name}: party ' + party.id + ' still has items; remove them before archiving it');
  });

  // A listener runs after commit; its failure is logged and never undoes the write.
  api.hooks.on(contract.events.itemCreated, ({ item }, meta) => {
    api.logger.info({ itemId: item.id, partyId: item.partyId, eventId: meta.id }, 'item created');
  });
}
`;
}

function pluginSource({ name, title }: PluginNames): string {
  return `import { definePlugin } from '@rapport/core';
import { contract } from './contract.js';
import { declare } from './declarations.js';
import { deps } from './deps.js';
import { itemHooks } from './hooks/items.js';
import { migrations } from './migrations.js';
import { itemRoutes } from './routes/items.js';
import { ItemService } from './services/items.js';

export { contract } from './contract.js';
export type { Item } from './records.js';

/** ${title}: composes the plugin from its parts; nothing else happens here. */
export default definePlugin({
  name: '${name}',
  version: '0.1.0',
  description: '${title}',
  requires: { core: '${coreRange()}' },
  contract,
  deps,
  migrations,
  setup(api, resolved) {
    declare(api);
    const items = new ItemService(resolved);
    itemHooks(api, items);
    api.routes((r) => itemRoutes(r, items));
  },
});
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

A Rapport plugin, scaffolded by \`rapport create-plugin ${name}\`. The plugin guide is in
\`node_modules/@rapport/cli/docs/plugin-guide.md\` (installed with the dev dependencies).

| | |
|---|---|
| routes | \`GET\`, \`POST /api/v1/${name}/items\` |
| permissions | \`${name}.items:read\`, \`${name}.items:write\` |
| record scope | \`${name}.items\`: a scoped principal sees the items of its own party |
| filter | \`party.archive\`: vetoes archiving a party that still has items |
| events | \`${name}.item.created\` \`{ item }\`, typed in \`src/contract.ts\` (listened to in \`src/hooks/items.ts\`) |
| table | created by migration \`0001_items\`, dropped by its \`down\` |

## Layout

The shape every Rapport plugin has (the plugin guide, \`node_modules/@rapport/cli/docs/plugin-guide.md\`,
section 1):

| file | |
|---|---|
| \`src/index.ts\` | \`definePlugin\`: contract, deps, migrations, and a \`setup\` that only composes the parts below |
| \`src/contract.ts\` | the events (and services, filters) other plugins may use, as typed refs |
| \`src/records.ts\` | each record's zod schema, once: API shape, TypeScript type, row mapper |
| \`src/deps.ts\` | the kernel capabilities the plugin asks for (it gets exactly these) |
| \`src/declarations.ts\` | permissions, record scopes, relationship and interaction types, indicators |
| \`src/migrations.ts\` | the tables (the only place \`tenant_id\` is written) |
| \`src/services/\` | the SQL, on the tenant-bound handle \`db.in(ctx)\` |
| \`src/routes/\` | thin: validate, call a service, return |
| \`src/hooks/\` | filters (in the write's transaction) and listeners (after commit) |

## Develop

\`\`\`sh
npm install
npm test            # a whole system on an in-memory PGlite; RAPPORT_TEST_DB=postgres for PostgreSQL
npm run typecheck
npm run build       # dist/: ESM, CJS and .d.ts
\`\`\`

## Use it in a system

\`@rapport/core\` is a peer dependency: the system provides it, and runs on exactly one copy
(a second copy of core in one process is refused at start). So install the plugin as a
package — packed, or published to a registry — not from this folder, whose
\`node_modules\` holds the copy of core the tests use:

\`\`\`sh
npm run build && npm pack                 # writes ${packageName}-0.1.0.tgz
cd ../my-system                           # a system: npm create rapport@latest my-system
npm install ../${name}/${packageName}-0.1.0.tgz
\`\`\`

(Once published — \`npm publish\` — a system installs it by name: \`npm install ${packageName}\`.)
Then list it in the system's configuration:

\`\`\`ts
// rapport.config.ts
import { defineConfig } from '@rapport/cli';

export default defineConfig({ plugins: ['@rapport/plugin-crm', '${packageName}'] });
\`\`\`

\`rapport migrate\` (or \`rapport serve\`) creates its table; its routes appear in the API
reference at \`/docs\`. Give a role the permissions \`${name}.items:read\` and
\`${name}.items:write\` to use them.
`;
}
