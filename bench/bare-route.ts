import Fastify from 'fastify';
import SQLite from 'better-sqlite3';
import type { ZodType } from 'zod';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { openSqlite } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { newId } from '../src/ids.ts';

interface PersonBody {
  firstName?: string;
  lastName?: string;
  email?: string | null;
  mobilePhone?: string | null;
  visibility?: string;
}

/**
 * The baseline of the HTTP benchmarks: a bare Fastify route with the product's own zod body schema
 * doing one raw contact insert into a migrated file (same table, same indexes), nothing else.
 */
export async function bareInsertRoute(
  file: string,
  route: { path: string; body: ZodType; approval: 'approved' | 'pending'; source: string; answer: (id: string) => object },
): Promise<{ url: string; close: () => Promise<void> }> {
  const store = openSqlite(file);
  await migrateToLatest(store);
  await store.close();
  const db = new SQLite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.prepare(`insert into institutions (id, name, slug, settings, created_at) values ('i', 'Bare', 'bare', '{}', ?)`).run(new Date().toISOString());
  const insert = db.prepare(`insert into contacts (id, institution_id, first_name, last_name, first_name_folded, last_name_folded, email, email_normalized, mobile_phone, mobile_e164, visibility, approval_status, source, opt_in_status, created_at, updated_at)
    values (?, 'i', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unknown', ?, ?)`);
  const app = Fastify().withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.post(route.path, { schema: { body: route.body } }, async (request, reply) => {
    const b = request.body as PersonBody;
    const at = new Date().toISOString();
    const id = newId(Date.parse(at));
    insert.run(id, b.firstName, b.lastName, b.firstName!.toLowerCase(), b.lastName!.toLowerCase(), b.email ?? null, b.email?.toLowerCase() ?? null, b.mobilePhone ?? null, b.mobilePhone ?? null, b.visibility ?? 'everyone', route.approval, route.source, at, at);
    reply.code(201);
    return route.answer(id);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}${route.path}`, close: async () => {
      await app.close();
      db.close();
    },
  };
}
