import { z } from 'zod';

/** The choice a caller of POST /api/contacts makes when the duplicate rule finds existing contacts (a leaf module: the contacts schemas import it). */
export const onDuplicateSchema = z
  .union([
    z.literal('create_anyway'),
    z.strictObject({
      mergeInto: z.string().min(1).max(100).describe('the existing contact to add these details to'),
      policy: z.enum(['fill_empty', 'overwrite']).default('fill_empty').describe('fill_empty keeps what the contact has; overwrite replaces it'),
    }),
  ])
  .describe("what to do when the institution's duplicate rule finds an existing contact: without it, such a create answers 409 with the candidates");
export type OnDuplicate = z.infer<typeof onDuplicateSchema>;

