import { useId } from 'react';
import type { DuplicateRule } from '../../types.ts';

const IDENTIFIERS: [DuplicateRule['identifier'], string][] = [
  ['email', 'Email Only'],
  ['mobile', 'Mobile Phone Only'],
  ['email_or_mobile', 'BOTH (Email OR Mobile Phone)'],
];
const SSN: [DuplicateRule['ssn'], string][] = [
  ['none', 'No SSN condition'],
  ['full', 'Full SSN (a match always counts; a mismatch never does)'],
  ['last6', 'Last 6 of SSN must also match'],
  ['last4', 'Last 4 of SSN must also match'],
];

/** Seed 002's rule in its own wording, e.g. "Email Only + Last Name + SSN". */
export function describeRule(r: DuplicateRule): string {
  const parts = [IDENTIFIERS.find(([v]) => v === r.identifier)![1]];
  if (r.lastName) parts.push('Last Name');
  if (r.ssn === 'full') parts.push('SSN');
  if (r.ssn === 'last6') parts.push('Last 6 of SSN');
  if (r.ssn === 'last4') parts.push('Last 4 of SSN');
  return parts.join(' + ');
}

/** The three choices of a duplicate-check rule: an identifier, optionally AND last name, optionally AND SSN. */
export function RuleFields({ rule, onChange, disabled }: { rule: DuplicateRule; onChange: (r: DuplicateRule) => void; disabled?: boolean }) {
  const id = useId();
  return (
    <div className="stack">
      <fieldset disabled={disabled}>
        <legend>A profile is a duplicate when</legend>
        {IDENTIFIERS.map(([value, text]) => (
          <label key={value} className="inline check-row">
            <input type="radio" name={`${id}-identifier`} value={value} checked={rule.identifier === value} onChange={() => onChange({ ...rule, identifier: value })} />
            {text}
          </label>
        ))}
        <label className="inline check-row">
          <input type="checkbox" checked={rule.lastName} onChange={(e) => onChange({ ...rule, lastName: e.target.checked })} />
          AND the last name matches
        </label>
        <label htmlFor={`${id}-ssn`} className="block-label">
          SSN
        </label>
        <select id={`${id}-ssn`} value={rule.ssn} onChange={(e) => onChange({ ...rule, ssn: e.target.value as DuplicateRule['ssn'] })}>
          {SSN.map(([value, text]) => (
            <option key={value} value={value}>
              {text}
            </option>
          ))}
        </select>
      </fieldset>
      <p className="muted">
        Rule: <strong>{describeRule(rule)}</strong>
      </p>
    </div>
  );
}
