/**
 * Brings a database's schema up to date with the migrations in ./migrations.
 */
import { Migrator } from 'kysely';
import type { Kysely, Migration, MigrationResultSet } from 'kysely';
import { createLogger } from '../log';
import { MIGRATIONS } from './migrations';
import type { Database } from './schema';

const log = createLogger('store');

/**
 * Kysely's SQLite adapter declares no transactional DDL, so its Migrator runs SQLite migrations bare and a
 * failure halfway would leave half a schema. SQLite does roll DDL back, so each migration gets its own
 * transaction here; on a dialect where the Migrator already opened one, it runs inside that.
 */
function transactional(migration: Migration): Migration {
  const wrap = (step: (db: Kysely<unknown>) => Promise<void>) => (db: Kysely<unknown>) =>
    db.isTransaction ? step(db) : db.transaction().execute((trx) => step(trx));
  return { up: wrap(migration.up), ...(migration.down ? { down: wrap(migration.down) } : {}) };
}

function migrator(db: Kysely<Database>, migrations: Readonly<Record<string, Migration>>): Migrator {
  const wrapped = Object.fromEntries(Object.entries(migrations).map(([name, migration]) => [name, transactional(migration)]));
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve(wrapped) } });
}

function check({ error, results = [] }: MigrationResultSet): string[] {
  const failed = results.find((result) => result.status === 'Error');
  if (error !== undefined || failed) {
    const reason = error instanceof Error ? error.message : String(error);
    const where = failed ? `migration ${failed.migrationName} failed` : 'migrating the database failed';
    log.error(where, { reason });
    throw new Error(`${where}: ${reason}`, { cause: error });
  }
  const applied = results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  if (applied.length > 0) log.info('migrated database', { applied });
  return applied;
}

/** Runs every migration not yet run, each in its own transaction; returns the names it ran. Throws naming a failed one. */
export async function migrateToLatest(
  db: Kysely<Database>,
  migrations: Readonly<Record<string, Migration>> = MIGRATIONS,
): Promise<string[]> {
  log.debug('migrating to latest');
  return check(await migrator(db, migrations).migrateToLatest());
}

/**
 * Runs migrations up to and including `name` (or back down to it). For tests of a later migration that
 * need a database as it was before that migration, with rows in it.
 */
export async function migrateTo(
  db: Kysely<Database>,
  name: string,
  migrations: Readonly<Record<string, Migration>> = MIGRATIONS,
): Promise<string[]> {
  log.debug('migrating to', { name });
  return check(await migrator(db, migrations).migrateTo(name));
}
