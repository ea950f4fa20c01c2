import { z } from 'zod';
import path from 'node:path';

/** Every setting Lethe reads from the environment, in one place. The README's table mirrors this. */
export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  LETHE_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL; leave it unset for the embedded SQLite database')
    .optional(),
  LETHE_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters; leave it unset on SQLite to have one generated beside the database')
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LETHE_PG_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  LETHE_SESSION_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(12),
  LETHE_LOGIN_RATE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(10),
  LETHE_LOGIN_LOCKOUT_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LETHE_LOGIN_LOCKOUT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  LETHE_COOKIE_SECURE: z.enum(['true', 'false', 'auto']).default('auto'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.org:587')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Lethe <no-reply@lethe.local>'),
  LETHE_PUBLIC_URL: z.url({ message: 'must be the absolute URL people use to reach this server, e.g. https://lethe.example.org' }).optional(),
  LETHE_WORKER: z.enum(['true', 'false']).default('true'),
  LETHE_APPLY_RATE_LIMIT: z.coerce.number().int().min(1).max(1_000_000).default(20),
  LETHE_HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
  LETHE_HTTP_IDLE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(90),
  LETHE_HTTP_KEEP_ALIVE_SECONDS: z.coerce.number().int().min(1).max(3_600).default(72),
  LETHE_IMPORT_MAX_MB: z.coerce.number().int().min(1).max(100_000).default(1024),
  LETHE_IMPORT_CHUNK_ROWS: z.coerce.number().int().min(1).max(10_000).default(500),
});

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  secret?: string;
  logLevel: z.infer<typeof configSchema>['LOG_LEVEL'];
  pgPoolMax: number;
  sessionHours: number;
  loginRateLimit: number;
  /** failed sign-ins for one email within the lockout period that lock it for that period */
  loginLockoutFailures: number;
  loginLockoutMinutes: number;
  cookieSecure: 'true' | 'false' | 'auto';
  smtpUrl?: string;
  mailFrom: string;
  /** base of links in emails; defaults to http://localhost:PORT */
  publicUrl: string;
  /** run the in-process worker inside `serve` */
  inProcessWorker: boolean;
  /** applications one address may send to one form per minute (public apply endpoint) */
  applyRateLimit: number;
  /** a request (headers and body, uploads included) must have arrived within this */
  httpRequestTimeoutSeconds: number;
  /** a connection with nothing sent either way for this long is closed */
  httpIdleTimeoutSeconds: number;
  /** an idle kept-alive connection is closed after this */
  httpKeepAliveSeconds: number;
  /** largest CSV file an upload may send */
  importMaxBytes: number;
  /** rows per import transaction (each commits with its checkpoint) */
  importChunkRows: number;
};

export class ConfigError extends Error {
  constructor(readonly issues: { field: string; message: string }[]) {
    super(
      'Invalid configuration:\n' +
        issues.map((i) => `  ${i.field}: ${i.message}`).join('\n') +
        '\nFix the environment variable(s) above and start again (see README, "Configuration").',
    );
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => ({ field: String(i.path[0]), message: i.message })));
  }
  const c = parsed.data;
  return {
    port: c.PORT,
    host: c.HOST,
    dataDir: path.resolve(c.LETHE_DATA_DIR),
    databaseUrl: c.DATABASE_URL,
    secret: c.LETHE_SECRET,
    logLevel: c.LOG_LEVEL,
    pgPoolMax: c.LETHE_PG_POOL_MAX,
    sessionHours: c.LETHE_SESSION_HOURS,
    loginRateLimit: c.LETHE_LOGIN_RATE_LIMIT,
    loginLockoutFailures: c.LETHE_LOGIN_LOCKOUT_FAILURES,
    loginLockoutMinutes: c.LETHE_LOGIN_LOCKOUT_MINUTES,
    cookieSecure: c.LETHE_COOKIE_SECURE,
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    publicUrl: (c.LETHE_PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, ''),
    inProcessWorker: c.LETHE_WORKER === 'true',
    applyRateLimit: c.LETHE_APPLY_RATE_LIMIT,
    httpRequestTimeoutSeconds: c.LETHE_HTTP_REQUEST_TIMEOUT_SECONDS,
    httpIdleTimeoutSeconds: c.LETHE_HTTP_IDLE_TIMEOUT_SECONDS,
    httpKeepAliveSeconds: c.LETHE_HTTP_KEEP_ALIVE_SECONDS,
    importMaxBytes: c.LETHE_IMPORT_MAX_MB * 1024 * 1024,
    importChunkRows: c.LETHE_IMPORT_CHUNK_ROWS,
  };
}
