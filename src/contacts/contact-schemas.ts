import { z } from 'zod';
import { approvalStatuses, contactSources, optInStatuses, visibilities } from '../db/schema.ts';
import { directorySorts, maxDirectoryLimit } from './directory.ts';
import { onDuplicateSchema } from '../intake/on-duplicate.ts';

/** Keyset cursors carry the last row's sort value (a name can be long), so they get more room than ids. */
export const cursorPage = {
  after: z.string().max(2000).optional().describe('cursor: nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(maxDirectoryLimit).default(50),
};

const id = z.string().min(1).max(100);
const purpose = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'must be lower-case letters, digits, _ . - (e.g. "newsletter")');
const attributeValue = z.union([z.string().max(2000), z.number(), z.boolean()]);

const authorizations = z.record(purpose, z.boolean()).describe('purpose → granted (yes/no); each change is timestamped');

const writable = {
  email: z.string().max(254).nullable().optional(),
  mobilePhone: z.string().max(40).nullable().optional().describe("national numbers are read in the institution's default region (intake settings)"),
  ssn: z.string().max(20).nullable().optional().describe('US Social Security number, 123-45-6789 or 123456789; stored only as keyed hashes; null removes it'),
  employerId: id.nullable().optional(),
  organizationId: id.optional().describe("an organization of your institution; defaults to yours"),
  ownerUserId: id.nullable().optional(),
  visibility: z.enum(visibilities).optional(),
  approvalStatus: z.enum(approvalStatuses).optional(),
  optInStatus: z.enum(optInStatuses).optional(),
  authorizations: authorizations.optional(),
};

export const createContactBody = z.strictObject({
  firstName: z.string().max(200),
  lastName: z.string().max(200),
  ...writable,
  source: z.enum(contactSources).optional().describe("default: 'api' with an API token, else 'manual'"),
  attributes: z.record(z.string(), attributeValue).optional().describe('custom attribute key → value'),
  onDuplicate: onDuplicateSchema.optional(),
});

export const patchContactBody = z.strictObject({
  firstName: z.string().max(200).optional(),
  lastName: z.string().max(200).optional(),
  ...writable,
  attributes: z.record(z.string(), attributeValue.nullable()).optional().describe('key → value; null removes the value'),
});

export const consentBody = z.strictObject({
  optInStatus: z.enum(optInStatuses).optional(),
  authorizations: authorizations.optional(),
});

export const contactProfileView = z.object({
  id: z.string(),
  organizationId: z.string().nullable(),
  firstName: z.string(),
  lastName: z.string(),
  email: z.string().nullable(),
  mobilePhone: z.string().nullable(),
  mobileE164: z.string().nullable(),
  ssnOnFile: z.boolean().describe('an SSN is on file; it is stored only as keyed hashes and never shown'),
  employer: z.object({ id: z.string(), name: z.string(), since: z.string() }).nullable(),
  formerEmployers: z.array(z.object({ id: z.string(), name: z.string(), startedAt: z.string(), endedAt: z.string() })),
  ownerUserId: z.string().nullable(),
  visibility: z.enum(visibilities),
  approvalStatus: z.enum(approvalStatuses),
  source: z.enum(contactSources),
  optInStatus: z.enum(optInStatuses),
  optInChangedAt: z.string().nullable(),
  attributes: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  authorizations: z.record(z.string(), z.object({ granted: z.boolean(), updatedAt: z.string() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const contactSummaryView = z.object({
  id: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  email: z.string().nullable(),
  mobilePhone: z.string().nullable(),
  organizationId: z.string().nullable(),
  employerId: z.string().nullable(),
  ownerUserId: z.string().nullable(),
  visibility: z.enum(visibilities),
  approvalStatus: z.enum(approvalStatuses),
  source: z.enum(contactSources),
  optInStatus: z.enum(optInStatuses),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** Directory query string; `attr.<key>`, `attr.<key>.gte` and `attr.<key>.lte` pass through to attribute filters. */
const directoryFilterShape = {
  email: z.string().max(254).optional().describe('exact email (case and spaces ignored)'),
  lastName: z.string().max(200).optional().describe('last-name prefix (case, accents and spacing ignored)'),
  firstName: z.string().max(200).optional().describe('first-name prefix'),
  q: z.string().max(200).optional().describe('prefix of the first name, last name or email'),
  organizationId: id.optional(),
  employerId: id.optional(),
  ownerUserId: id.optional(),
  visibility: z.enum(visibilities).optional(),
  approvalStatus: z.enum(approvalStatuses).optional().describe('default: every status except rejected'),
  lifecycle: z.enum(['active', 'disabled', 'any']).optional().describe('default active: disabled (soft-deleted) contacts are left out; staff may list them with disabled'),
  source: z.enum(contactSources).optional(),
  optInStatus: z.enum(optInStatuses).optional(),
  createdFrom: z.iso.datetime({ offset: true }).optional(),
  createdTo: z.iso.datetime({ offset: true }).optional().describe('exclusive'),
  sort: z.enum(directorySorts).optional().describe('default: lastName/firstName when that prefix is given, else createdAt'),
  order: z.enum(['asc', 'desc']).optional().describe('default: desc for createdAt, asc for names'),
  ...cursorPage,
};

export const directoryQuerystring = z
  .object(directoryFilterShape)
  .catchall(z.union([z.string(), z.array(z.string())]))
  .superRefine((query, issue) => {
    for (const key of Object.keys(query)) {
      if (!(key in directoryFilterShape) && !/^attr\.[a-z][a-z0-9_]*(\.(gte|lte))?$/.test(key)) {
        issue.addIssue({ code: 'custom', path: [key], message: 'is not a directory filter (attribute filters are attr.<key>, attr.<key>.gte, attr.<key>.lte)' });
      }
    }
  });
