import { CORE_VERSION, kernelMigrations, openDatabase, pendingMigrations, resolvePlugins, type Database, type PluginDefinition } from '@rapport/core';
import type { Command } from 'commander';
import type { ResolvedConfig } from '../config.js';
import type { CommandContext } from '../context.js';
import { println } from '../io.js';

type Knex = Database['knex'];

interface OwnerStatus {
  owner: string;
  state: string;
  pending: string[];
}

export function registerMigrate(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('migrate')
    .description('Apply pending migrations of the kernel and of the enabled plugins, then exit')
    .option('--status', 'only list pending migrations; change nothing')
    .action(async (options: { status?: boolean }) => done(options.status ? await status(ctx) : await migrate(ctx)));
}

async function migrate(ctx: CommandContext): Promise<number> {
  const config = await ctx.loadConfig();
  const plugins = resolvePlugins(config.plugins, CORE_VERSION);
  const before = await withDatabase(config, (knex) => pending(knex, plugins));
  // Starting the system is the migration: kernel first, then each enabled plugin in dependency order.
  const now = await ctx.withApp((app) => pending(app.knex, plugins), config);
  const { stdout } = ctx.io;
  const applied = before.flatMap((b) => b.pending.filter((name) => !now.find((n) => n.owner === b.owner)?.pending.includes(name)).map((name) => `${b.owner}/${name}`));
  if (applied.length === 0) println(stdout, 'Nothing to migrate: the kernel and the enabled plugins are up to date.');
  else {
    println(stdout, `Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}:`);
    for (const name of applied) println(stdout, `  ${name}`);
  }
  for (const owner of now.filter((o) => o.pending.length > 0 && o.owner !== 'core')) {
    println(stdout, `${owner.owner} is ${owner.state}: ${owner.pending.length} migration${owner.pending.length === 1 ? '' : 's'} will run when it is enabled (${owner.pending.join(', ')}).`);
  }
  return 0;
}

async function status(ctx: CommandContext): Promise<number> {
  const config = await ctx.loadConfig();
  const plugins = resolvePlugins(config.plugins, CORE_VERSION);
  const owners = await withDatabase(config, (knex) => pending(knex, plugins));
  const { stdout } = ctx.io;
  const width = Math.max(...owners.map((o) => o.owner.length));
  for (const o of owners) {
    const what = o.pending.length === 0 ? 'up to date' : `${o.pending.length} pending: ${o.pending.join(', ')}`;
    println(stdout, `${o.owner.padEnd(width)}  ${o.state.padEnd(13)}  ${what}`);
  }
  const total = owners.reduce((n, o) => n + o.pending.length, 0);
  println(stdout, total === 0 ? 'Everything is up to date.' : `${total} pending migration${total === 1 ? '' : 's'}; run \`rapport migrate\` to apply them.`);
  return 0;
}

/** Opens the database alone, without starting the system (which would migrate it). */
async function withDatabase<T>(config: ResolvedConfig, work: (knex: Knex) => Promise<T>): Promise<T> {
  const database = openDatabase(config.database);
  try {
    return await work(database.knex);
  } finally {
    await database.close();
  }
}

/**
 * Pending migrations per owner. A plugin's state comes from the plugins table: one not
 * installed yet is installed (and migrated) by the next start; a disabled one migrates
 * when it is enabled.
 */
async function pending(knex: Knex, plugins: readonly PluginDefinition[]): Promise<OwnerStatus[]> {
  const fresh = !(await knex.schema.hasTable('rapport_migrations'));
  const states = new Map<string, string>();
  if (await knex.schema.hasTable('rapport_plugins')) {
    for (const row of await knex('rapport_plugins').select('name', 'state')) states.set(row.name, row.state);
  }
  const list = async (owner: string, migrations: PluginDefinition['migrations'] = []) => (fresh ? migrations.map((m) => m.name) : pendingMigrations(knex, owner, migrations));
  const out: OwnerStatus[] = [{ owner: 'core', state: 'kernel', pending: await list('core', kernelMigrations) }];
  for (const plugin of plugins) out.push({ owner: plugin.name, state: states.get(plugin.name) ?? 'not installed', pending: await list(plugin.name, plugin.migrations) });
  return out;
}
