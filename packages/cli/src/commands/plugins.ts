import type { PluginStatus, Rapport } from '@rapport/core';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { println } from '../io.js';

export function registerPlugins(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  const plugins = program.command('plugins').description('List the configured plugins and manage their lifecycle');
  plugins
    .command('list')
    .description('Configured plugins with their version, installed version and state')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => done(await ctx.withApp((app) => list(ctx, app, options.json ?? false))));
  plugins
    .command('enable <name>')
    .description('Enable a disabled (or reinstall an uninstalled) plugin; runs its pending migrations')
    .action(async (name: string) =>
      done(
        await ctx.withApp(async (app) => {
          const before = requireConfigured(app, name).state;
          const status = await app.plugins.enable(name);
          println(
            ctx.io.stdout,
            before === 'enabled'
              ? `Plugin "${name}" is already enabled.`
              : `Plugin "${name}" ${before === 'uninstalled' ? 'installed again and enabled' : 'enabled'} (version ${status.version}): its routes, hooks and types are active.`,
          );
          return 0;
        }),
      ),
    );
  plugins
    .command('disable <name>')
    .description('Disable a plugin: its routes, hooks and types go inactive; its data is kept')
    .action(async (name: string) =>
      done(
        await ctx.withApp(async (app) => {
          const before = requireConfigured(app, name).state;
          await app.plugins.disable(name);
          println(
            ctx.io.stdout,
            before === 'enabled' ? `Plugin "${name}" disabled; its data is kept. \`rapport plugins enable ${name}\` turns it back on.` : `Plugin "${name}" is not enabled (${before}); nothing to do.`,
          );
          return 0;
        }),
      ),
    );
  plugins
    .command('uninstall <name>')
    .description("Run the plugin's uninstall step; its tables are kept unless --purge is given")
    .option('--purge', 'also drop the tables of this plugin (and only this plugin): its data is gone for good')
    .action(async (name: string, options: { purge?: boolean }) =>
      done(
        await ctx.withApp(async (app) => {
          requireConfigured(app, name);
          const purge = options.purge ?? false;
          await app.plugins.uninstall(name, { purge });
          println(
            ctx.io.stdout,
            purge
              ? `Plugin "${name}" uninstalled and purged: its tables were dropped.`
              : `Plugin "${name}" uninstalled; its data was kept. \`rapport plugins uninstall ${name} --purge\` drops its tables, \`rapport plugins enable ${name}\` installs it again.`,
          );
          return 0;
        }),
      ),
    );
}

async function list(ctx: CommandContext, app: Rapport, json: boolean): Promise<number> {
  const configured = app.plugins.statuses();
  // Plugins recorded in the database but absent from the configuration are not loaded; say so.
  const rows: Array<{ name: string; version: string; state: string }> = await app.knex('rapport_plugins').orderBy('name').select('name', 'version', 'state');
  const missing = rows.filter((r) => !configured.some((p) => p.name === r.name));
  if (json) {
    const out = [
      ...configured.map((p) => ({ name: p.name, version: p.version, installedVersion: p.installedVersion, state: p.state, description: p.description, configured: true })),
      ...missing.map((r) => ({ name: r.name, version: null, installedVersion: r.version, state: r.state, description: null, configured: false })),
    ];
    println(ctx.io.stdout, JSON.stringify(out, null, 2));
    return 0;
  }
  if (configured.length === 0 && missing.length === 0) {
    println(ctx.io.stdout, 'No plugins configured. List them in rapport.config.ts (plugins: [...]).');
    return 0;
  }
  const table = [
    ['NAME', 'VERSION', 'INSTALLED', 'STATE', 'DESCRIPTION'],
    ...configured.map((p: PluginStatus) => [p.name, p.version, p.installedVersion ?? '-', p.state, p.description ?? '']),
    ...missing.map((r) => [r.name, '-', r.version, r.state, '(not in the configuration: not loaded)']),
  ];
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  for (const row of table)
    println(
      ctx.io.stdout,
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column])))
        .join('  ')
        .trimEnd(),
    );
  return 0;
}

function requireConfigured(app: Rapport, name: string): PluginStatus {
  if (!app.plugins.get(name)) {
    const names = app.plugins.statuses().map((p) => p.name);
    throw new CliError(`Plugin "${name}" is not in the configuration${names.length ? ` (configured: ${names.join(', ')})` : ''}; add it to the plugins of rapport.config.ts first`);
  }
  return app.plugins.status(name);
}
