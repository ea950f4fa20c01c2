import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { openStore } from '../db/connect.ts';
import { migrateToLatest, migrationStatus } from '../db/migrate.ts';

export function registerMigrate(program: Command): void {
  const migrate = program.command('migrate').description('apply or inspect database migrations');
  migrate
    .command('up', { isDefault: true })
    .description('apply every pending migration')
    .action(async () => {
      const store = openStore(loadConfig());
      try {
        const result = await migrateToLatest(store);
        const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
        process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : `Already up to date (${store.kind}).\n`);
      } finally {
        await store.close();
      }
    });
  migrate
    .command('status')
    .description('list migrations and whether each has been applied')
    .action(async () => {
      const store = openStore(loadConfig());
      try {
        for (const m of await migrationStatus(store)) process.stdout.write(`${m.executedAt ? 'applied ' + m.executedAt : 'pending'}\t${m.name}\n`);
      } finally {
        await store.close();
      }
    });
}
