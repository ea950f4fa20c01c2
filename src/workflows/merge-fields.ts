/**
 * The merge fields a workflow email may use. A template naming anything else is refused when the
 * workflow is saved, so a sent email never carries a blank where a name should be.
 */
export const contactMergeFields = ['firstName', 'lastName', 'fullName', 'email', 'institution', 'contactId'] as const;
/** Links only a contact email can carry (they are signed for the recipient). */
export const linkMergeFields = ['optInUrl', 'consentRenewalUrl', 'unsubscribeUrl'] as const;

const fieldPattern = /\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}/g;

export function mergeFieldsIn(...sources: (string | undefined)[]): string[] {
  const found = new Set<string>();
  for (const source of sources) for (const m of (source ?? '').matchAll(fieldPattern)) found.add(m[1]);
  return [...found];
}

export interface MergeContext {
  /** names of tracked links the step defines ({{links.<name>}}) */
  links: string[];
  /** attribute keys defined in the institution ({{attributes.<key>}}) */
  attributeKeys: ReadonlySet<string>;
  /** staff notifications carry no contact-signed links */
  allowContactLinks: boolean;
}

/** Why a merge field cannot be used, or null when it can. */
export function mergeFieldProblem(name: string, c: MergeContext): string | null {
  if ((contactMergeFields as readonly string[]).includes(name)) return null;
  if ((linkMergeFields as readonly string[]).includes(name)) return c.allowContactLinks ? null : `{{${name}}} can only be used in an email to the contact`;
  if (name.startsWith('links.')) return c.links.includes(name.slice(6)) ? null : `{{${name}}} names no link of this step's "links"`;
  if (name.startsWith('attributes.')) return c.attributeKeys.has(name.slice(11)) ? null : `{{${name}}} names no custom attribute of this institution`;
  const known = [...contactMergeFields, ...(c.allowContactLinks ? linkMergeFields : []), 'links.<name>', 'attributes.<key>'];
  return `{{${name}}} is not a merge field (known: ${known.join(', ')})`;
}
