import { Migrator, type MigrationResultSet } from 'kysely';
import type { Store } from './connect.ts';
import { migrations } from './migrations/index.ts';

function migrator(store: Store) {
  return new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'lethe_migrations',
    migrationLockTableName: 'lethe_migrations_lock',
  });
}

export async function migrateToLatest(store: Store): Promise<MigrationResultSet> {
  const result = await migrator(store).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(
      `Migration ${failed?.migrationName ?? ''} failed: ${(result.error as Error).message ?? result.error}. ` +
        'The database was left at the last successful migration; fix the cause and run `lethe migrate up` again.',
    );
  }
  return result;
}

export interface MigrationStatus {
  name: string;
  executedAt: string | null;
}

export async function migrationStatus(store: Store): Promise<MigrationStatus[]> {
  const list = await migrator(store).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt ? new Date(m.executedAt).toISOString() : null }));
}

/** The name of the newest applied migration, shown by /api/health. */
export async function currentMigration(store: Store): Promise<string | null> {
  const applied = (await migrationStatus(store)).filter((m) => m.executedAt);
  return applied.at(-1)?.name ?? null;
}
