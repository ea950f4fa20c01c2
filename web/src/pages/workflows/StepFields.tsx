import type { ReactNode } from 'react';
import { Field } from '../../components.tsx';
import type { AttributeDefinition, ConditionTest, SendEmailOptions, WebhookSubscription, WorkflowStep } from '../../types.ts';
import { ERASURE_REASONS } from '../contact/erasure-reasons.ts';
import { STEP_WORDS } from './describe.ts';
import { itemErrors, type PathErrors } from './field-errors.ts';

export interface StepContext {
  /** the step's position in the definition, as the server names it (`steps[i]`) */
  index: number;
  errors: PathErrors;
  /** the other steps, as branch targets */
  targets: { id: string; label: string }[];
  attributes: AttributeDefinition[] | null;
  webhooks: WebhookSubscription[] | null;
}

/** Paths each kind's controls show; anything else the server says about a step is listed on the step. */
export const SHOWN_PATHS: Record<WorkflowStep['type'], string[]> = {
  send_email: ['send_email.category', 'send_email.subject', 'send_email.text', 'send_email.html', 'send_email.links'],
  wait: ['wait.days', 'wait.hours', 'wait.minutes', 'wait.until'],
  condition: ['condition.if.optedIn', 'condition.if.attribute.key', 'condition.if.attribute.equals', 'condition.if.authorization.purpose', 'condition.if.authorization.granted', 'condition.then', 'condition.else'],
  expunge: ['expunge.reason', 'expunge.notify'],
  anonymise: [],
  archive: ['archive.employer', 'archive.doNotEmail', 'archive.staffOnly'],
  set_attribute: ['set_attribute.key', 'set_attribute.value'],
  notify_staff: ['notify_staff.to', 'notify_staff.subject', 'notify_staff.text'],
  webhook: ['webhook.subscriptionId'],
};

/** A number input's value as the API takes it; anything that is not a number goes as typed, for the server to name. */
function toNumber(v: string): number | undefined {
  if (v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : (v as unknown as number);
}

function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function Check({ checked, onChange, children }: { checked: boolean; onChange: (v: boolean) => void; children: ReactNode }) {
  return (
    <label className="inline check-row">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      {children}
    </label>
  );
}

/** The controls of one step, by kind. */
export function StepFields({ step, onChange, ctx }: { step: WorkflowStep; onChange: (s: WorkflowStep) => void; ctx: StepContext }) {
  const err = (rel: string) => ctx.errors.at(`steps[${ctx.index}].${rel}`);
  switch (step.type) {
    case 'send_email':
      return <EmailFields o={step.send_email} err={err} onChange={(o) => onChange({ ...step, send_email: o })} />;
    case 'wait': {
      const w = step.wait;
      const until = 'until' in w;
      return (
        <>
          <fieldset className="plain-fieldset">
            <legend>How long</legend>
            <label className="inline check-row">
              <input type="radio" name={`wait-kind-${ctx.index}`} checked={!until} onChange={() => onChange({ ...step, wait: { days: 1 } })} />
              For a duration
            </label>
            <label className="inline check-row">
              <input type="radio" name={`wait-kind-${ctx.index}`} checked={until} onChange={() => onChange({ ...step, wait: { until: '' } })} />
              Until a date
            </label>
          </fieldset>
          {'until' in w ? (
            <Field label="Until (your local time)" error={err('wait.until')}>
              {(p) => <input {...p} type="datetime-local" value={toLocalInput(w.until)} onChange={(e) => onChange({ ...step, wait: { until: e.target.value ? new Date(e.target.value).toISOString() : '' } })} />}
            </Field>
          ) : (
            <div className="inline-fields">
              {(['days', 'hours', 'minutes'] as const).map((unit) => (
                <Field key={unit} label={unit[0].toUpperCase() + unit.slice(1)} error={err(`wait.${unit}`)}>
                  {(p) => (
                    <input
                      {...p}
                      type="number"
                      inputMode="numeric"
                      className="narrow"
                      value={w[unit] ?? ''}
                      onChange={(e) => {
                        const next = { ...w, [unit]: toNumber(e.target.value) };
                        if (next[unit] === undefined) delete next[unit];
                        onChange({ ...step, wait: next });
                      }}
                    />
                  )}
                </Field>
              ))}
            </div>
          )}
        </>
      );
    }
    case 'condition':
      return <ConditionFields step={step} onChange={onChange} ctx={ctx} err={err} />;
    case 'expunge': {
      const o = step.expunge;
      return (
        <>
          <Field label="Reason recorded in the audit log" error={err('expunge.reason')}>
            {(p) => (
              <select {...p} value={o.reason ?? 'no_consent'} onChange={(e) => onChange({ ...step, expunge: { ...o, reason: e.target.value as typeof o.reason } })}>
                {ERASURE_REASONS.map(([value, text]) => (
                  <option key={value} value={value}>
                    {text}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Check checked={o.notify !== false} onChange={(v) => onChange({ ...step, expunge: { ...o, notify: v } })}>
            Email the contact a confirmation that their data was erased
          </Check>
          <p className="muted">The contact is erased everywhere, permanently; the run ends.</p>
        </>
      );
    }
    case 'anonymise':
      return <p className="muted">Names are replaced and contact data and history removed, irreversibly (seed 004); the run ends.</p>;
    case 'archive': {
      const o = step.archive;
      return (
        <>
          <Check checked={o.employer !== false} onChange={(v) => onChange({ ...step, archive: { ...o, employer: v } })}>
            Move to the "Inactive" employer
          </Check>
          <Check checked={o.doNotEmail !== false} onChange={(v) => onChange({ ...step, archive: { ...o, doNotEmail: v } })}>
            Set "Inactive / Do not email"
          </Check>
          <Check checked={o.staffOnly !== false} onChange={(v) => onChange({ ...step, archive: { ...o, staffOnly: v } })}>
            Restrict visibility to staff
          </Check>
        </>
      );
    }
    case 'set_attribute': {
      const o = step.set_attribute;
      const def = ctx.attributes?.find((a) => a.key === o.key);
      return (
        <>
          <AttributeKey value={o.key} attributes={ctx.attributes} error={err('set_attribute.key')} onChange={(key) => onChange({ ...step, set_attribute: { ...o, key } })} />
          <Check checked={o.value === null} onChange={(clear) => onChange({ ...step, set_attribute: { ...o, value: clear ? null : '' } })}>
            Clear the value instead
          </Check>
          {o.value !== null && <AttributeValue label="New value" def={def} value={o.value} error={err('set_attribute.value')} onChange={(value) => onChange({ ...step, set_attribute: { ...o, value } })} />}
          {o.value === null && err('set_attribute.value') && <p className="field-error">{err('set_attribute.value')}</p>}
        </>
      );
    }
    case 'notify_staff': {
      const o = step.notify_staff;
      return (
        <>
          <Field label="Staff addresses" hint="Users of this institution, separated by commas" error={itemErrors(ctx.errors, `steps[${ctx.index}].notify_staff.to`, o.to)}>
            {(p) => (
              <input
                {...p}
                type="text"
                value={o.to.join(', ')}
                onChange={(e) => onChange({ ...step, notify_staff: { ...o, to: e.target.value.split(',').map((a) => a.trim()).filter((a, i, all) => a !== '' || all.length === 1) } })}
              />
            )}
          </Field>
          <Field label="Subject" error={err('notify_staff.subject')}>
            {(p) => <input {...p} value={o.subject} onChange={(e) => onChange({ ...step, notify_staff: { ...o, subject: e.target.value } })} />}
          </Field>
          <Field label="Message" error={err('notify_staff.text')} hint="Merge fields: {{firstName}}, {{lastName}}, {{fullName}}, {{email}}, {{contactId}}, {{attributes.<key>}}">
            {(p) => <textarea {...p} rows={4} value={o.text} onChange={(e) => onChange({ ...step, notify_staff: { ...o, text: e.target.value } })} />}
          </Field>
        </>
      );
    }
    case 'webhook': {
      const o = step.webhook;
      const hooks = ctx.webhooks;
      return (
        <Field label="Webhook subscription" error={err('webhook.subscriptionId')} hint="Its URL and signing secret are used; the call carries an event id that stays the same across retries">
          {(p) =>
            hooks && hooks.length > 0 ? (
              <select {...p} value={o.subscriptionId} onChange={(e) => onChange({ ...step, webhook: { subscriptionId: e.target.value } })}>
                <option value="">Choose a subscription</option>
                {hooks.map((h) => (
                  <option key={h.id} value={h.id}>
                    {h.url}
                  </option>
                ))}
                {o.subscriptionId && !hooks.some((h) => h.id === o.subscriptionId) && <option value={o.subscriptionId}>{o.subscriptionId} (not found)</option>}
              </select>
            ) : (
              <input {...p} value={o.subscriptionId} onChange={(e) => onChange({ ...step, webhook: { subscriptionId: e.target.value.trim() } })} />
            )
          }
        </Field>
      );
    }
  }
}

function EmailFields({ o, err, onChange }: { o: SendEmailOptions; err: (rel: string) => string | undefined; onChange: (o: SendEmailOptions) => void }) {
  const links = Object.entries(o.links ?? {});
  const setLinks = (entries: [string, string][]) => {
    const { links: _old, ...rest } = o;
    onChange(entries.length ? { ...rest, links: Object.fromEntries(entries) } : rest);
  };
  return (
    <>
      <Field label="Category" error={err('send_email.category')} hint="Marketing email is never sent to do-not-email, opted-out or disabled contacts">
        {(p) => (
          <select {...p} value={o.category} onChange={(e) => onChange({ ...o, category: e.target.value as SendEmailOptions['category'] })}>
            <option value="marketing">Marketing</option>
            <option value="transactional">Transactional</option>
          </select>
        )}
      </Field>
      <Field label="Subject" error={err('send_email.subject')}>
        {(p) => <input {...p} value={o.subject} onChange={(e) => onChange({ ...o, subject: e.target.value })} />}
      </Field>
      <Field
        label="Text"
        error={err('send_email.text')}
        hint="Merge fields: {{firstName}}, {{lastName}}, {{fullName}}, {{email}}, {{institution}}, {{optInUrl}}, {{consentRenewalUrl}}, {{links.<name>}}, {{attributes.<key>}}"
      >
        {(p) => <textarea {...p} rows={6} value={o.text} onChange={(e) => onChange({ ...o, text: e.target.value })} />}
      </Field>
      <Field label="HTML (optional)" error={err('send_email.html')} hint="Left empty, the text is sent as paragraphs">
        {(p) => (
          <textarea
            {...p}
            rows={3}
            value={o.html ?? ''}
            onChange={(e) => {
              const { html: _old, ...rest } = o;
              onChange(e.target.value ? { ...rest, html: e.target.value } : rest);
            }}
          />
        )}
      </Field>
      <fieldset className="plain-fieldset">
        <legend>Tracked links</legend>
        {err('send_email.links') && <p className="field-error">{err('send_email.links')}</p>}
        {links.length === 0 && <p className="muted">None. A tracked link records the click (which counts as activity) and redirects.</p>}
        {links.map(([name, url], i) => (
          <div className="inline-fields" key={i}>
            <Field label={`Link ${i + 1} name`} hint={`In the text: {{links.${name}}}`}>
              {(p) => <input {...p} className="narrow-wide" value={name} onChange={(e) => setLinks(links.map((l, j) => (j === i ? [e.target.value, l[1]] : l)))} />}
            </Field>
            <Field label={`Link ${i + 1} URL`} error={err(`send_email.links.${name}`)}>
              {(p) => <input {...p} type="url" value={url} onChange={(e) => setLinks(links.map((l, j) => (j === i ? [l[0], e.target.value] : l)))} />}
            </Field>
            <button type="button" className="link-button danger-text" onClick={() => setLinks(links.filter((_, j) => j !== i))}>
              Remove link {i + 1}
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setLinks([...links, [`link${links.length + 1}`, 'https://']])}>
          Add a tracked link
        </button>
      </fieldset>
    </>
  );
}

function ConditionFields({ step, onChange, ctx, err }: { step: Extract<WorkflowStep, { type: 'condition' }>; onChange: (s: WorkflowStep) => void; ctx: StepContext; err: (rel: string) => string | undefined }) {
  const c = step.condition;
  const test = c.if;
  const kind = 'optedIn' in test ? 'optedIn' : 'attribute' in test ? 'attribute' : 'authorization';
  const setTest = (t: ConditionTest) => onChange({ ...step, condition: { ...c, if: t } });
  const setBranch = (branch: 'then' | 'else', value: string) => {
    const next = { ...c, [branch]: value };
    if (value === '') delete next[branch];
    onChange({ ...step, condition: next });
  };
  const def = 'attribute' in test ? ctx.attributes?.find((a) => a.key === test.attribute.key) : undefined;
  return (
    <>
      <Field label="Test" error={err('condition.if')}>
        {(p) => (
          <select
            {...p}
            value={kind}
            onChange={(e) => {
              const k = e.target.value;
              setTest(k === 'optedIn' ? { optedIn: true } : k === 'attribute' ? { attribute: { key: '', equals: '' } } : { authorization: { purpose: '', granted: true } });
            }}
          >
            <option value="optedIn">Opt-in status</option>
            <option value="attribute">A custom attribute's value</option>
            <option value="authorization">An authorization</option>
          </select>
        )}
      </Field>
      {'optedIn' in test && (
        <Field label="Holds when the contact" error={err('condition.if.optedIn')}>
          {(p) => (
            <select {...p} value={String(test.optedIn)} onChange={(e) => setTest({ optedIn: e.target.value === 'true' })}>
              <option value="true">has opted in</option>
              <option value="false">has not opted in</option>
            </select>
          )}
        </Field>
      )}
      {'attribute' in test && (
        <>
          <AttributeKey value={test.attribute.key} attributes={ctx.attributes} error={err('condition.if.attribute.key')} onChange={(key) => setTest({ attribute: { ...test.attribute, key } })} />
          <AttributeValue label="Equals" def={def} value={test.attribute.equals} error={err('condition.if.attribute.equals')} onChange={(equals) => setTest({ attribute: { ...test.attribute, equals: equals ?? '' } })} />
        </>
      )}
      {'authorization' in test && (
        <>
          <Field label="Purpose" error={err('condition.if.authorization.purpose')} hint="e.g. marketing_email">
            {(p) => <input {...p} value={test.authorization.purpose} onChange={(e) => setTest({ authorization: { ...test.authorization, purpose: e.target.value } })} />}
          </Field>
          <Field label="Holds when the authorization is" error={err('condition.if.authorization.granted')}>
            {(p) => (
              <select {...p} value={String(test.authorization.granted)} onChange={(e) => setTest({ authorization: { ...test.authorization, granted: e.target.value === 'true' } })}>
                <option value="true">granted</option>
                <option value="false">not granted</option>
              </select>
            )}
          </Field>
        </>
      )}
      <div className="inline-fields">
        {(['then', 'else'] as const).map((branch) => (
          <Field key={branch} label={branch === 'then' ? 'When it holds, go to' : 'Otherwise, go to'} error={err(`condition.${branch}`)}>
            {(p) => (
              <select {...p} value={c[branch] ?? ''} onChange={(e) => setBranch(branch, e.target.value)}>
                <option value="">The next step</option>
                <option value="end">The end (the run completes)</option>
                {ctx.targets.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.label}
                  </option>
                ))}
                {c[branch] && c[branch] !== 'end' && !ctx.targets.some((t) => t.id === c[branch]) && <option value={c[branch]}>{c[branch]} (no such step)</option>}
              </select>
            )}
          </Field>
        ))}
      </div>
    </>
  );
}

function AttributeKey({ value, attributes, error, onChange }: { value: string; attributes: AttributeDefinition[] | null; error?: string; onChange: (key: string) => void }) {
  return (
    <Field label="Attribute" error={error}>
      {(p) =>
        attributes && attributes.length > 0 ? (
          <select {...p} value={value} onChange={(e) => onChange(e.target.value)}>
            <option value="">Choose an attribute</option>
            {attributes.map((a) => (
              <option key={a.key} value={a.key}>
                {a.label} ({a.key})
              </option>
            ))}
            {value && !attributes.some((a) => a.key === value) && <option value={value}>{value} (not defined)</option>}
          </select>
        ) : (
          <input {...p} value={value} onChange={(e) => onChange(e.target.value.trim())} />
        )
      }
    </Field>
  );
}

function AttributeValue({ label, def, value, error, onChange }: { label: string; def: AttributeDefinition | undefined; value: string | number | boolean; error?: string; onChange: (v: string | number | boolean) => void }) {
  return (
    <Field label={label} error={error}>
      {(p) =>
        def?.type === 'boolean' ? (
          <select {...p} value={String(value)} onChange={(e) => onChange(e.target.value === 'true')}>
            <option value="true">Yes</option>
            <option value="false">No</option>
          </select>
        ) : def?.type === 'choice' && def.options ? (
          <select {...p} value={String(value)} onChange={(e) => onChange(e.target.value)}>
            <option value="">Choose a value</option>
            {def.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        ) : def?.type === 'number' ? (
          <input {...p} type="number" value={String(value)} onChange={(e) => onChange(toNumber(e.target.value) ?? '')} />
        ) : (
          <input {...p} type={def?.type === 'date' ? 'date' : 'text'} value={String(value)} onChange={(e) => onChange(e.target.value)} />
        )
      }
    </Field>
  );
}

export function stepTitle(step: WorkflowStep, index: number): string {
  return `Step ${index + 1}: ${STEP_WORDS[step.type]}`;
}
