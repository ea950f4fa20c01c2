/**
 * Bulk-import header mapping: each CSV column goes to a contact field, found automatically by name
 * and overridable by staff. Columns are kept by position because a CSV may repeat a header.
 */

export const CONTACT_FIELDS = ['firstName', 'lastName', 'email', 'mobilePhone', 'ssn', 'employer', 'organization'] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];
/** a standard field, or a custom attribute as `attr:<key>` */
export type ImportTarget = ContactField | `attr:${string}`;

export interface AttributeRef {
  key: string;
  label: string;
}

export interface ColumnMapping {
  index: number;
  header: string;
  /** null: the column is not imported */
  target: ImportTarget | null;
}

/** Case, accents, spaces, underscores, hyphens and dots do not matter: "E-mail" = "email" = "EMAIL". */
function headerKey(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

// Names people give these columns, in English and French; keys pass through headerKey.
const synonyms: Record<ContactField, string[]> = {
  firstName: ['first name', 'firstname', 'first', 'given name', 'forename', 'prenom', 'prénom'],
  lastName: ['last name', 'last', 'surname', 'family name', 'nom', 'nom de famille'],
  email: ['email', 'e-mail', 'mail', 'email address', 'e-mail address', 'courriel', 'adresse email', 'adresse e-mail', 'adresse mail'],
  mobilePhone: [
    'mobile', 'mobile phone', 'mobile number', 'phone', 'phone number', 'cell', 'cell phone', 'cellphone',
    'telephone', 'tel', 'téléphone', 'portable', 'téléphone portable', 'gsm',
  ],
  ssn: ['ssn', 'social security number', 'social security', 'social security no'],
  employer: ['employer', 'company', 'employeur', 'entreprise', 'société'],
  organization: ['organization', 'organisation', 'org'],
};

const synonymIndex = new Map<string, ContactField>(
  CONTACT_FIELDS.flatMap((field) => synonyms[field].map((name) => [headerKey(name), field] as const)),
);

function attributeFor(key: string, attributes: readonly AttributeRef[]): ImportTarget | null {
  const found = attributes.find((a) => headerKey(a.key) === key || headerKey(a.label) === key);
  return found ? `attr:${found.key}` : null;
}

/**
 * Standard fields win over custom attributes of the same name. A field is given to the first
 * column that names it; later ones stay unmapped, so the automatic mapping never conflicts.
 */
export function autoMapHeaders(headers: readonly string[], attributes: readonly AttributeRef[] = []): ColumnMapping[] {
  const taken = new Set<ImportTarget>();
  return headers.map((header, index) => {
    const key = headerKey(header);
    const target = synonymIndex.get(key) ?? attributeFor(key, attributes);
    if (target === null || target === undefined || taken.has(target)) return { index, header, target: null };
    taken.add(target);
    return { index, header, target };
  });
}

export interface MappingError {
  header: string;
  message: string;
}

export type MappingResult = { ok: true; mapping: ColumnMapping[] } | { ok: false; errors: MappingError[] };

function validTarget(target: string, attributes: readonly AttributeRef[]): target is ImportTarget {
  if ((CONTACT_FIELDS as readonly string[]).includes(target)) return true;
  return target.startsWith('attr:') && attributes.some((a) => `attr:${a.key}` === target);
}

/**
 * Applies staff choices (header → target, or null to skip the column) over the automatic mapping
 * and reports every problem at once: an unknown header or target, a header that appears more than
 * once in the file (it cannot be told apart by name), two columns sent to one field.
 */
export function applyMappingOverride(
  auto: readonly ColumnMapping[],
  override: Readonly<Record<string, string | null>>,
  attributes: readonly AttributeRef[] = [],
): MappingResult {
  const errors: MappingError[] = [];
  const mapping = auto.map((column) => ({ ...column }));
  for (const [header, target] of Object.entries(override)) {
    const columns = mapping.filter((column) => column.header === header);
    if (columns.length === 0) {
      errors.push({ header, message: `The file has no column "${header}".` });
      continue;
    }
    if (columns.length > 1) {
      errors.push({ header, message: `The file has ${columns.length} columns named "${header}"; rename them so each can be mapped.` });
      continue;
    }
    if (target !== null && !validTarget(target, attributes)) {
      errors.push({ header, message: `Column "${header}" is mapped to "${target}", which is not a contact field or attribute.` });
      continue;
    }
    columns[0].target = target;
  }
  const byTarget = new Map<ImportTarget, string[]>();
  for (const column of mapping) {
    if (column.target === null) continue;
    byTarget.set(column.target, [...(byTarget.get(column.target) ?? []), column.header]);
  }
  for (const [target, headers] of byTarget) {
    if (headers.length > 1) {
      errors.push({
        header: headers[1],
        message: `Columns ${headers.map((h) => `"${h}"`).join(', ')} are all mapped to ${target}; map only one of them.`,
      });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, mapping };
}
