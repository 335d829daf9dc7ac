import { citusDistributionPlan, globalTablesOf, schemaRuleViolations } from '@rapport/core';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { println } from '../io.js';

export function registerCitus(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  const citus = program.command('citus').description('Shard the database by tenant on a Citus cluster (docs/operations.md)');
  citus
    .command('distribute')
    .description('Migrate, then distribute every tenant-owned table by tenant_id (colocated) and place the global ones; idempotent')
    .option('--print', 'only print the statements that are still to run; change nothing')
    .action(async (options: { print?: boolean }) => done(await distribute(ctx, Boolean(options.print))));
}

async function distribute(ctx: CommandContext, printOnly: boolean): Promise<number> {
  const { stdout } = ctx.io;
  return ctx.withApp(async (app, config) => {
    const globalTables = globalTablesOf(config.plugins);
    const violations = await schemaRuleViolations(app.knex, { globalTables });
    if (violations.length > 0) {
      const found = violations.map((v) => `${v.table}: ${v.kind} ${v.object} (${v.definition})`);
      throw new CliError(`cannot distribute: tenant_id must lead every key and index of a tenant's table (docs/plugin-guide.md); ${found.join('; ')}`);
    }
    const plan = await citusDistributionPlan(app.knex, globalTables);
    const todo = plan.flatMap((p) => (!p.done && p.statement ? [p.statement] : []));
    if (printOnly) {
      for (const statement of todo) println(stdout, statement);
      if (todo.length === 0) println(stdout, '-- every table is placed already');
      return 0;
    }
    const extension = await app.knex.raw("select 1 from pg_extension where extname = 'citus'");
    if (extension.rows.length === 0) {
      throw new CliError(
        'the citus extension is not installed in this database: run CREATE EXTENSION citus on the coordinator and add the workers first (`rapport citus distribute --print` shows what would run)',
      );
    }
    for (const statement of todo) {
      println(stdout, statement);
      await app.knex.raw(statement);
    }
    const counts = (kind: string) => plan.filter((p) => p.placement === kind).length;
    println(
      stdout,
      `${todo.length === 0 ? 'Nothing to do' : `Placed ${todo.length} table${todo.length === 1 ? '' : 's'}`}: ${counts('distributed')} distributed by tenant, ${counts('reference')} reference, ${counts('coordinator')} on the coordinator.`,
    );
    return 0;
  });
}
