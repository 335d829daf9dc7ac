import { createApiKey, findTenant, NotFoundError, type Rapport } from '@rapport/core';
import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { CliError } from '../errors.js';
import { println } from '../io.js';

interface KeyOptions {
  name: string;
  role: string[];
  party?: string;
  scoped?: boolean;
  tenant?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function registerKeys(program: Command, ctx: CommandContext, done: (code: number) => void): void {
  const keys = program.command('keys').description('API keys');
  keys
    .command('create')
    .description('Create an API key and print its token (shown once: only its hash is stored)')
    .requiredOption('--name <name>', 'what the key is for, e.g. "ci" or "billing sync"')
    .option('--role <role>', 'a role the key holds (repeatable), e.g. --role admin', (value: string, all: string[]) => [...all, value], [] as string[])
    .option('--party <id>', 'the party the key acts for')
    .option('--scoped', 'restrict the key to records connected to --party (an external principal)')
    .option('--tenant <id>', 'tenant of the key (default: the first tenant)')
    .action(async (options: KeyOptions) => done(await ctx.withApp((app) => create(ctx, app, options))));
}

async function create(ctx: CommandContext, app: Rapport, options: KeyOptions): Promise<number> {
  const tenantId = options.tenant ?? app.defaultTenant.id;
  if (options.tenant && (!UUID.test(options.tenant) || !(await findTenant(app.knex, options.tenant)))) throw new CliError(`Tenant ${options.tenant} does not exist`);
  const known: string[] = (await app.knex('rapport_roles').where('tenant_id', tenantId).orderBy('name').select('name')).map((r: { name: string }) => r.name);
  if (options.role.length === 0) throw new CliError(`Give the key at least one --role (roles of this tenant: ${known.join(', ')})`);
  const unknown = options.role.filter((r) => !known.includes(r));
  if (unknown.length) throw new CliError(`Unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (roles of this tenant: ${known.join(', ')})`);
  if (options.scoped && !options.party) throw new CliError('--scoped needs --party: a scoped key sees only the records connected to its party');
  if (options.party) {
    const missing = `Party ${options.party} does not exist in tenant ${tenantId}`;
    if (!UUID.test(options.party)) throw new CliError(missing);
    try {
      await app.services.parties.get(app.systemContext(tenantId), options.party);
    } catch (error) {
      if (error instanceof NotFoundError) throw new CliError(missing);
      throw error;
    }
  }
  const roles = [...new Set(options.role)];
  const key = await createApiKey(app.knex, tenantId, { name: options.name, roles, partyId: options.party ?? null, scoped: options.scoped ?? false });
  // The details go to stderr so that `TOKEN=$(rapport keys create ...)` captures the token alone.
  println(ctx.io.stderr, `Created API key "${key.name}" (id ${key.id}, tenant ${tenantId}, roles ${roles.join(', ')}${key.partyId ? `, party ${key.partyId}${key.scoped ? ', scoped' : ''}` : ''}).`);
  println(ctx.io.stderr, 'Its token follows. It is shown this once; store it now (send it as "Authorization: Bearer <token>").');
  println(ctx.io.stdout, key.token);
  return 0;
}
