import type { Filters } from '../Directory.tsx';

export interface AttributeCondition {
  key: string;
  op: 'eq' | 'gte' | 'lte';
  values: string[];
}

/** The directory's filters as a bulk (or export) filter body: same meaning, attributes as a list. */
export function bulkFilterOf(f: Filters): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (key: string, value: string) => {
    if (value.trim() !== '') out[key] = value.trim();
  };
  put('q', f.q);
  put('approvalStatus', f.approvalStatus);
  put('lifecycle', f.lifecycle);
  put('optInStatus', f.optInStatus);
  put('visibility', f.visibility);
  put('source', f.source);
  put('organizationId', f.organizationId);
  if (f.createdFrom) out.createdFrom = new Date(`${f.createdFrom}T00:00:00`).toISOString();
  if (f.createdTo) out.createdTo = new Date(`${f.createdTo}T23:59:59`).toISOString();
  const attributes: AttributeCondition[] = [];
  for (const [name, value] of Object.entries(f.attrs)) {
    if (value === '') continue;
    const m = /^attr\.(.+?)(?:\.(gte|lte))?$/.exec(name);
    if (m) attributes.push({ key: m[1], op: (m[2] as 'gte' | 'lte' | undefined) ?? 'eq', values: [value] });
  }
  if (attributes.length) out.attributes = attributes;
  return out;
}

/** In words, for the confirmation: which filters the set was chosen with. */
export function describeFilter(filter: Record<string, unknown>): string {
  const parts = Object.entries(filter).map(([k, v]) => (k === 'attributes' ? `${(v as AttributeCondition[]).length} attribute condition(s)` : k === 'q' ? 'a search' : `${k} = ${String(v).replace(/_/g, ' ')}`));
  return parts.length ? parts.join(', ') : 'no filters (every contact you may see)';
}
