import { z } from 'zod';
import type { AppContext } from '../context.ts';
import { recordAudit, type Actor } from '../audit/audit-log.ts';
import { invalidField, notFound } from '../http/problem.ts';
import { passwordSchema } from './institutions.ts';
import { hashPassword, verifyPassword } from './passwords.ts';
import { endOtherSessionsOf } from './sessions.ts';
import { personNameSchema, userById } from './users.ts';
import type { UserView } from './route-schemas.ts';

export const updateAccountSchema = z.object({
  name: personNameSchema.optional(),
  currentPassword: z.string().max(1024).optional().describe('required with newPassword'),
  newPassword: passwordSchema.optional(),
});
export type UpdateAccountInput = z.infer<typeof updateAccountSchema>;

/**
 * What every user may change about themselves, whatever their role: this is all a "denied access"
 * role keeps. A new password needs the current one, and signs out every other session.
 */
export async function updateOwnAccount(
  ctx: AppContext,
  userId: string,
  input: UpdateAccountInput,
  actor: Actor,
  keepSessionToken?: string,
): Promise<UserView> {
  const user = await ctx.db.selectFrom('users').select(['id', 'name', 'institution_id', 'password_hash']).where('id', '=', userId).executeTakeFirst();
  if (!user) throw notFound('User');
  let passwordHash: string | undefined;
  if (input.newPassword !== undefined) {
    if (!input.currentPassword) throw invalidField('currentPassword', 'is required to change the password');
    if (!(await verifyPassword(user.password_hash, input.currentPassword))) throw invalidField('currentPassword', 'is not your current password');
    passwordHash = await hashPassword(input.newPassword);
  }
  const rename = input.name !== undefined && input.name !== user.name;
  if (rename || passwordHash) {
    await ctx.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ ...(rename ? { name: input.name } : {}), ...(passwordHash ? { password_hash: passwordHash } : {}), updated_at: ctx.clock.now().toISOString() })
        .where('id', '=', userId)
        .execute();
      const target = { type: 'user', id: userId };
      if (rename) {
        await recordAudit(ctx, trx, {
          institutionId: user.institution_id,
          actor,
          action: 'user.update',
          target,
          subjectId: userId,
          before: { name: user.name },
          after: { name: input.name },
        });
      }
      if (passwordHash) {
        await endOtherSessionsOf(ctx, trx, userId, keepSessionToken);
        await recordAudit(ctx, trx, { institutionId: user.institution_id, actor, action: 'user.password_change', target });
      }
    });
  }
  return (await userById(ctx.db, userId))!;
}
