import { CONTACT_FIELDS } from '../rules/csv-mapping.ts';

/**
 * The mapping override as people type it: `Header=field,Other header=attr:program,Notes=`
 * (an empty target, `-` or `skip` leaves the column out), or the same as a JSON object.
 */
export type MappingOverride = Record<string, string | null>;

export class MappingOptionError extends Error {}

const skipWords = new Set(['', '-', 'skip']);

export function parseMappingOption(text: string | undefined | null): MappingOverride {
  const value = (text ?? '').trim();
  if (!value) return {};
  if (value.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new MappingOptionError('The mapping is not valid JSON; write it as {"Header": "field"} or Header=field,Header=field.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MappingOptionError('The mapping must be an object of header → field.');
    const out: MappingOverride = {};
    for (const [header, target] of Object.entries(parsed)) {
      if (target !== null && typeof target !== 'string') throw new MappingOptionError(`The mapping of "${header}" must be a field name or null.`);
      out[header] = target === null || skipWords.has(target.trim()) ? null : target.trim();
    }
    return out;
  }
  const out: MappingOverride = {};
  for (const pair of value.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.lastIndexOf('=');
    if (eq < 0) {
      throw new MappingOptionError(`"${pair.trim()}" is not header=field; write each mapping as Header=field (fields: ${CONTACT_FIELDS.join(', ')}, attr:<key>).`);
    }
    const header = pair.slice(0, eq).trim();
    const target = pair.slice(eq + 1).trim();
    if (!header) throw new MappingOptionError(`"${pair.trim()}" names no header.`);
    out[header] = skipWords.has(target) ? null : target;
  }
  return out;
}
