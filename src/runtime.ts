import pino, { type Logger } from 'pino';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { AppContext } from './context.ts';
import { openStore, type Store } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { loadServerSecret, secretsFrom } from './security/server-secret.ts';

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    // Defence in depth: these keys never reach a log line even if a caller passes them.
    redact: { paths: ['*.password', '*.email', '*.ssn', '*.token', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  });
}

export interface OpenOptions {
  clock?: Clock;
  log?: Logger;
  store?: Store;
  /** run pending migrations first (serve and worker do; `lethe migrate status` does not) */
  migrate?: boolean;
}

/** Opens the database, applies migrations and loads the server secret: everything a command needs. */
export async function openContext(config: Config, options: OpenOptions = {}): Promise<AppContext> {
  // The secret is checked before the database is touched, so a misconfigured process changes nothing.
  const embedded = options.store ? options.store.kind === 'sqlite' : !config.databaseUrl;
  const secret = loadServerSecret({ secret: config.secret, dataDir: config.dataDir, embedded });
  const store = options.store ?? openStore(config);
  try {
    if (options.migrate !== false) await migrateToLatest(store);
    return {
      config,
      store,
      db: store.db,
      clock: options.clock ?? systemClock,
      secrets: secretsFrom(secret),
      log: options.log ?? createLogger(config),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
