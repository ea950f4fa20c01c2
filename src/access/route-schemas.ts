import { z } from 'zod';

/** Path ids are looked up, not pattern-checked, so any unknown id (ours or another tenant's) is a plain 404. */
export const idParams = z.object({ id: z.string().min(1).max(100) });

export const pageQuery = {
  after: z.string().max(100).optional().describe('cursor: nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
};

export const roleRef = z.object({ id: z.string().nullable(), key: z.string(), name: z.string() });

export const userView = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleRef.nullable(),
  platformRole: z.enum(['support', 'csm']).nullable(),
  organizationId: z.string().nullable(),
  institutionId: z.string().nullable(),
  siteAccess: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type UserView = z.infer<typeof userView>;

export const noContent = { 204: z.undefined().describe('Done; nothing to return') };
