import path from 'node:path';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { println } from '../io.js';
import { scaffoldPlugin } from '../scaffold/create-plugin.js';

export function registerCreatePlugin(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  program
    .command('create-plugin')
    .description('Scaffold a plugin package: a migration, permissions, a route, a filter, an event listener, a passing test and build config')
    .argument('<name>', 'plugin name: lower-case letters, digits and hyphens (the URL prefix /api/v1/<name>)')
    .option('--dir <path>', 'where to write it (default: ./<name>); must be empty or not exist')
    .action((name: string, options: { dir?: string }) => {
      // Needs no configuration and no database: it only writes files.
      const result = scaffoldPlugin(name, path.resolve(ctx.io.cwd, options.dir ?? name));
      const shown = path.relative(ctx.io.cwd, result.dir) || '.';
      println(ctx.io.stdout, `Created plugin "${result.names.name}" (package ${result.names.packageName}) in ${shown}:`);
      for (const file of result.files) println(ctx.io.stdout, `  ${file}`);
      println(ctx.io.stdout);
      println(ctx.io.stdout, 'Next:');
      println(ctx.io.stdout, `  cd ${shown}`);
      println(ctx.io.stdout, '  npm install');
      println(ctx.io.stdout, '  npm test');
      println(ctx.io.stdout, `  npm run build      # then add '${result.names.packageName}' to the plugins of your rapport.config`);
      done(0);
    });
}
