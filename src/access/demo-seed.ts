import { randomBytes } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { systemActor } from '../audit/audit-log.ts';
import { createInstitution } from './institutions.ts';

export interface DemoCredentials {
  email: string;
  password: string;
  institutionId: string;
}

/**
 * On the very first start (no institution yet) creates a demo institution with two organizations
 * and an admin whose password is generated and returned once; it is never stored in clear or shown again.
 */
export async function seedDemoIfEmpty(ctx: AppContext): Promise<DemoCredentials | null> {
  const any = await ctx.db.selectFrom('institutions').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const password = randomBytes(12).toString('base64url');
  const email = 'admin@demo.lethe.local';
  const created = await createInstitution(
    ctx,
    {
      name: 'Demo University',
      slug: 'demo',
      organizations: [
        { name: 'Career Services', tier: 'enterprise', emailDomains: ['demo.lethe.local'] },
        { name: 'Alumni Relations', tier: 'scaled', emailDomains: ['demo.lethe.local'] },
      ],
      admin: { email, name: 'Demo Admin', password },
    },
    systemActor,
  );
  return { email, password, institutionId: created.institutionId };
}
