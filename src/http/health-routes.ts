import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { currentMigration } from '../db/migrate.ts';
import type { App } from './app.ts';

export async function healthRoutes(app: App, ctx: AppContext): Promise<void> {
  app.get(
    '/api/health',
    {
      schema: {
        tags: ['system'],
        summary: 'Liveness, database kind and migration version',
        security: [],
        response: {
          200: z.object({ status: z.literal('ok'), database: z.enum(['sqlite', 'postgres']), migration: z.string().nullable(), time: z.string() }),
        },
      },
    },
    async () => ({ status: 'ok' as const, database: ctx.store.kind, migration: await currentMigration(ctx.store), time: ctx.clock.now().toISOString() }),
  );
}
