import type { Knex } from 'knex';

/**
 * A schema change owned by the kernel or by one plugin. `down` is what `uninstall --purge`
 * runs, newest first, so a plugin that creates tables should drop them there.
 */
export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

const TABLE = 'rapport_migrations';

/*
 * Our own runner rather than knex's migrator: one tracking table serves every owner
 * (kernel and each plugin), purge rolls back exactly one owner, and everything runs on the
 * caller's transaction, which PGlite's single connection requires.
 */
export async function ensureMigrationTable(knex: Knex): Promise<void> {
  await knex.raw(`create table if not exists ${TABLE} (owner text not null, name text not null, applied_at timestamptz not null default now(), primary key (owner, name))`);
}

export async function appliedMigrations(knex: Knex, owner: string): Promise<string[]> {
  const rows = await knex(TABLE).where({ owner }).orderBy('applied_at').orderBy('name').select('name');
  return rows.map((row: { name: string }) => row.name);
}

/** Applied migration names by owner, as read by `allAppliedMigrations`. */
export type AppliedMigrations = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Every owner's applied migrations in one query, so a boot checks the kernel and all its
 * plugins at once instead of two statements each. Read it under the boot lock and use it
 * for that boot only.
 */
export async function allAppliedMigrations(knex: Knex): Promise<Map<string, Set<string>>> {
  await ensureMigrationTable(knex);
  const rows: Array<{ owner: string; name: string }> = await knex(TABLE).select('owner', 'name');
  const byOwner = new Map<string, Set<string>>();
  for (const row of rows) {
    const names = byOwner.get(row.owner) ?? new Set<string>();
    names.add(row.name);
    byOwner.set(row.owner, names);
  }
  return byOwner;
}

/**
 * Applies the owner's pending migrations, each in its own transaction. Returns their names.
 * `known` (from `allAppliedMigrations`, read under the same boot lock) saves reading the
 * owner's applied migrations again.
 */
export async function migrateUp(knex: Knex, owner: string, migrations: readonly Migration[], known?: AppliedMigrations): Promise<string[]> {
  assertUniqueNames(owner, migrations);
  let done: ReadonlySet<string>;
  if (known) {
    done = known.get(owner) ?? new Set();
  } else {
    await ensureMigrationTable(knex);
    done = new Set(await appliedMigrations(knex, owner));
  }
  const applied: string[] = [];
  for (const migration of migrations) {
    if (done.has(migration.name)) continue;
    await knex.transaction(async (trx) => {
      try {
        await migration.up(trx);
      } catch (error) {
        throw new Error(`Migration ${owner}/${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      await trx(TABLE).insert({ owner, name: migration.name });
    });
    applied.push(migration.name);
  }
  return applied;
}

export async function pendingMigrations(knex: Knex, owner: string, migrations: readonly Migration[]): Promise<string[]> {
  await ensureMigrationTable(knex);
  const done = new Set(await appliedMigrations(knex, owner));
  return migrations.filter((m) => !done.has(m.name)).map((m) => m.name);
}

/** Rolls back every applied migration of one owner, newest first. */
export async function migrateDownAll(knex: Knex, owner: string, migrations: readonly Migration[]): Promise<string[]> {
  await ensureMigrationTable(knex);
  const done = await appliedMigrations(knex, owner);
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const undone: string[] = [];
  for (const name of [...done].reverse()) {
    const migration = byName.get(name);
    if (!migration?.down) {
      throw new Error(`Migration ${owner}/${name} has no down(); cannot purge its tables`);
    }
    await knex.transaction(async (trx) => {
      await migration.down!(trx);
      await trx(TABLE).where({ owner, name }).delete();
    });
    undone.push(name);
  }
  return undone;
}

function assertUniqueNames(owner: string, migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (seen.has(m.name)) throw new Error(`Migration ${owner}/${m.name} is declared twice`);
    seen.add(m.name);
  }
}
