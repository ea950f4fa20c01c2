import { z } from 'zod';
import { Problem } from '../http/problem.ts';
import type { DefinitionInput } from './definition.ts';
import { fieldPath } from './validate.ts';

/**
 * Workflows shipped ready to use. Each is an ordinary definition built from a few options, so
 * what it does is readable (GET /api/workflow-templates) and editable like any other.
 */
export const templateOptions = {
  /** Seed 000: contacts added by a recruiter (manually or by bulk import) are asked to opt in, and expunged if they do not. */
  opt_in_or_expunge: z.strictObject({
    graceDays: z.number().int().min(1).max(3650).default(30).describe('days a contact has to opt in before being expunged'),
    sources: z.array(z.enum(['bulk_import', 'manual', 'api'])).min(1).default(['bulk_import', 'manual']),
    name: z.string().trim().min(1).max(200).optional(),
  }),
  /** Seed 004: contacts enrolled manually (e.g. inactive for years) get a link to the consent-renewal page; the click counts as activity. */
  consent_renewal: z.strictObject({ name: z.string().trim().min(1).max(200).optional() }),
} as const;
export type TemplateKey = keyof typeof templateOptions;
export const templateKeys = Object.keys(templateOptions) as TemplateKey[];

function optionsOf<K extends TemplateKey>(key: K, raw: unknown): z.output<(typeof templateOptions)[K]> {
  const parsed = templateOptions[key].safeParse(raw ?? {});
  if (parsed.success) return parsed.data as z.output<(typeof templateOptions)[K]>;
  const errors = parsed.error.issues.map((i) => ({ field: fieldPath(i.path), message: i.message }));
  throw new Problem(400, `The template options are not valid: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}.`, errors);
}

export function buildTemplate(key: TemplateKey, rawOptions: unknown): DefinitionInput {
  if (key === 'opt_in_or_expunge') {
    const o = optionsOf('opt_in_or_expunge', rawOptions);
    return {
      name: o.name ?? `Opt in or be erased after ${o.graceDays} days`,
      trigger: { type: 'contact_created', sources: o.sources },
      steps: [
        {
          id: 'ask_opt_in',
          type: 'send_email',
          send_email: {
            category: 'marketing',
            subject: '{{institution}}: do you want us to keep your profile?',
            text:
              'Hello {{firstName}},\n\n' +
              '{{institution}} has added your profile to its recruiting system. We keep it only if you agree.\n\n' +
              `To keep your profile, confirm here within ${o.graceDays} days:\n{{optInUrl}}\n\n` +
              'If you do nothing, your profile will be permanently erased, and we will send you one last email to confirm it.',
          },
        },
        { id: 'grace_period', type: 'wait', wait: { days: o.graceDays } },
        { id: 'opted_in', type: 'condition', condition: { if: { optedIn: true }, then: 'end' } },
        { id: 'expunge', type: 'expunge', expunge: { reason: 'no_consent', notify: true } },
      ],
    };
  }
  const o = optionsOf('consent_renewal', rawOptions);
  return {
    name: o.name ?? 'Consent renewal',
    trigger: { type: 'manual' },
    steps: [
      {
        id: 'renewal_email',
        type: 'send_email',
        send_email: {
          category: 'marketing',
          subject: 'We have not seen you for a long time',
          text:
            'Hello {{firstName}},\n\n' +
            'We have not seen you for a long time. If you want to continue hearing from {{institution}}, simply click this link:\n{{consentRenewalUrl}}',
        },
      },
    ],
  };
}
