import { Field } from '../../components.tsx';
import type { AttributeDefinition, OptInStatus, Source, WorkflowTrigger, WorkflowTriggerType } from '../../types.ts';
import { newTrigger, SOURCE_WORDS, TRIGGER_WORDS } from './describe.ts';
import { itemErrors, type PathErrors } from './field-errors.ts';

export const TRIGGER_SHOWN_PATHS = ['trigger.type', 'trigger.sources', 'trigger.optIn', 'trigger.purpose', 'trigger.key', 'trigger.cron', 'trigger.filter'];

/** The filter fields a schedule offers here; other directory filters already in a definition are kept as they are. */
const FILTER_FIELDS: { key: string; label: string; options: [string, string][] }[] = [
  { key: 'source', label: 'Only contacts created by', options: [['', 'Any way'], ...(Object.entries(SOURCE_WORDS) as [string, string][])] },
  { key: 'optInStatus', label: 'Only contacts whose opt-in is', options: [['', 'Any'], ['unknown', 'Unknown'], ['opted_in', 'Opted in'], ['opted_out', 'Opted out']] },
  { key: 'approvalStatus', label: 'Only contacts whose approval is', options: [['', 'Any'], ['pending', 'Pending'], ['approved', 'Approved'], ['rejected', 'Rejected']] },
];

export function TriggerFields({ trigger, onChange, errors, attributes }: { trigger: WorkflowTrigger; onChange: (t: WorkflowTrigger) => void; errors: PathErrors; attributes: AttributeDefinition[] | null }) {
  return (
    <fieldset className="card">
      <legend className="legend-title">Trigger: when a contact is enrolled</legend>
      <Field label="Enroll a contact when" error={errors.at('trigger.type') ?? errors.at('trigger')}>
        {(p) => (
          <select {...p} value={trigger.type} onChange={(e) => onChange(newTrigger(e.target.value as WorkflowTriggerType))}>
            {(Object.entries(TRIGGER_WORDS) as [WorkflowTriggerType, string][]).map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        )}
      </Field>
      {trigger.type === 'contact_created' && (
        <fieldset className="plain-fieldset" aria-describedby="trigger-sources-hint">
          <legend>Created by</legend>
          {(Object.entries(SOURCE_WORDS) as [Source, string][]).map(([source, text]) => {
            const sources = trigger.sources ?? [];
            return (
              <label key={source} className="inline check-row">
                <input
                  type="checkbox"
                  checked={sources.includes(source)}
                  onChange={(e) => {
                    const next = e.target.checked ? [...sources, source] : sources.filter((s) => s !== source);
                    onChange(next.length ? { type: 'contact_created', sources: next } : { type: 'contact_created' });
                  }}
                />
                {text}
              </label>
            );
          })}
          <small id="trigger-sources-hint" className="hint">
            None ticked: contacts created any way.
          </small>
          {itemErrors(errors, 'trigger.sources', trigger.sources ?? []) && <p className="field-error">{itemErrors(errors, 'trigger.sources', trigger.sources ?? [])}</p>}
        </fieldset>
      )}
      {trigger.type === 'consent_changed' && (
        <>
          <Field label="Only when the opt-in status becomes" error={errors.at('trigger.optIn')}>
            {(p) => (
              <select
                {...p}
                value={trigger.optIn ?? ''}
                onChange={(e) => onChange({ type: 'consent_changed', ...(e.target.value ? { optIn: e.target.value as OptInStatus } : {}), ...(trigger.purpose ? { purpose: trigger.purpose } : {}) })}
              >
                <option value="">Any change</option>
                <option value="opted_in">Opted in</option>
                <option value="opted_out">Opted out</option>
                <option value="unknown">Unknown</option>
              </select>
            )}
          </Field>
          <Field label="Or: when this authorization changes (purpose)" error={errors.at('trigger.purpose')} hint="Leave empty to follow the opt-in status">
            {(p) => <input {...p} value={trigger.purpose ?? ''} onChange={(e) => onChange({ type: 'consent_changed', ...(trigger.optIn ? { optIn: trigger.optIn } : {}), ...(e.target.value ? { purpose: e.target.value } : {}) })} />}
          </Field>
        </>
      )}
      {trigger.type === 'attribute_changed' && (
        <Field label="Attribute" error={errors.at('trigger.key')}>
          {(p) =>
            attributes && attributes.length > 0 ? (
              <select {...p} value={trigger.key} onChange={(e) => onChange({ type: 'attribute_changed', key: e.target.value })}>
                <option value="">Choose an attribute</option>
                {attributes.map((a) => (
                  <option key={a.key} value={a.key}>
                    {a.label} ({a.key})
                  </option>
                ))}
              </select>
            ) : (
              <input {...p} value={trigger.key} onChange={(e) => onChange({ type: 'attribute_changed', key: e.target.value.trim() })} />
            )
          }
        </Field>
      )}
      {trigger.type === 'manual' && <p className="muted">Contacts are enrolled by hand, a filtered set at a time, through the API (POST /api/workflows/{'{id}'}/enrollments).</p>}
      {trigger.type === 'schedule' && (
        <>
          <Field label="Schedule (cron, UTC)" error={errors.at('trigger.cron')} hint='Five fields, e.g. "0 9 * * 1": Mondays at 09:00 UTC'>
            {(p) => <input {...p} value={trigger.cron} onChange={(e) => onChange({ ...trigger, cron: e.target.value })} />}
          </Field>
          {FILTER_FIELDS.map((f) => (
            <Field key={f.key} label={f.label} error={errors.at(`trigger.filter.${f.key}`)}>
              {(p) => (
                <select
                  {...p}
                  value={String(trigger.filter[f.key] ?? '')}
                  onChange={(e) => {
                    const filter = { ...trigger.filter, [f.key]: e.target.value };
                    if (!e.target.value) delete filter[f.key];
                    onChange({ ...trigger, filter });
                  }}
                >
                  {f.options.map(([value, text]) => (
                    <option key={value} value={value}>
                      {text}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ))}
          {errors.rest('trigger.filter', FILTER_FIELDS.map((f) => `trigger.filter.${f.key}`)).map((e) => (
            <p key={e.field} className="field-error">
              {e.field}: {e.message}
            </p>
          ))}
        </>
      )}
    </fieldset>
  );
}
