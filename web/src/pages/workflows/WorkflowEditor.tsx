import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmDialog, Field, FormError } from '../../components.tsx';
import { useCan } from '../../session.ts';
import type { AttributeDefinition, WebhookSubscription, WorkflowDefinition, WorkflowStep, WorkflowStepType, WorkflowTrigger, WorkflowView } from '../../types.ts';
import { describeStep, describeTrigger, ERASING_STEPS, newStep, STEP_TYPES, STEP_WORDS } from './describe.ts';
import { pathErrors } from './field-errors.ts';
import { SHOWN_PATHS, StepFields, stepTitle } from './StepFields.tsx';
import { TRIGGER_SHOWN_PATHS, TriggerFields } from './TriggerFields.tsx';

interface DraftStep {
  key: number;
  step: WorkflowStep;
}

/**
 * Edits a workflow's trigger and steps. The server checks the whole definition (shape, branch
 * targets, merge fields, attributes, staff addresses, webhooks) and names each problem by its
 * path; every control shows its own message. Saving an existing workflow makes a new version.
 */
export function WorkflowEditor({ initial, workflow, onCreated }: { initial: WorkflowDefinition; workflow?: WorkflowView; onCreated?: (w: WorkflowView) => void }) {
  const queryClient = useQueryClient();
  const canWebhooks = useCan('webhooks.manage');
  const attributes = useQuery({ queryKey: ['attributes'], queryFn: () => api.get<{ items: AttributeDefinition[] }>('/api/attributes') });
  const webhooks = useQuery({ queryKey: ['webhooks'], queryFn: () => api.get<{ items: WebhookSubscription[] }>('/api/webhooks'), enabled: canWebhooks });

  const nextKey = useRef(0);
  const toDraft = (steps: WorkflowStep[]) => steps.map((step) => ({ key: nextKey.current++, step }));
  const [name, setName] = useState(initial.name);
  const [trigger, setTrigger] = useState<WorkflowTrigger>(initial.trigger);
  const [steps, setSteps] = useState<DraftStep[]>(() => toDraft(initial.steps));
  const [baseline, setBaseline] = useState(() => JSON.stringify(initial));
  const [saved, setSaved] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [addType, setAddType] = useState<WorkflowStepType>('send_email');
  const [focus, setFocus] = useState<{ key: number; action: 'up' | 'down' | 'first' } | null>(null);
  const addRef = useRef<HTMLSelectElement>(null);

  const definition: WorkflowDefinition = { name, trigger, steps: steps.map((s) => s.step) };
  const dirty = JSON.stringify(definition) !== baseline;

  const save = useMutation({
    mutationFn: (body: WorkflowDefinition) => (workflow ? api.put<WorkflowView>(`/api/workflows/${workflow.id}`, body) : api.post<WorkflowView>('/api/workflows', body)),
    onSuccess: (view) => {
      queryClient.setQueryData(['workflow', view.id], view);
      queryClient.invalidateQueries({ queryKey: ['workflows'] });
      setConfirming(false);
      if (!workflow) return onCreated?.(view);
      setName(view.definition.name);
      setTrigger(view.definition.trigger);
      setSteps(toDraft(view.definition.steps));
      setBaseline(JSON.stringify(view.definition));
      setSaved(`Saved as version ${view.version}. New enrollments follow it; runs already under way finish on the version they started with.`);
    },
  });
  const errors = pathErrors(save.error);
  // Refused on creation: the dialog closes so the messages beside the fields can be read.
  useEffect(() => {
    if (save.isError && !workflow) setConfirming(false);
  }, [save.isError, workflow]);

  useEffect(() => {
    if (!focus) return;
    const box = document.querySelector(`[data-step-key="${focus.key}"]`);
    const target =
      focus.action === 'first'
        ? box?.querySelector<HTMLElement>('input, select, textarea')
        : (box?.querySelector<HTMLButtonElement>(`[data-action="${focus.action}"]:not(:disabled)`) ?? box?.querySelector<HTMLButtonElement>('[data-action]:not(:disabled)'));
    target?.focus();
    setFocus(null);
  }, [focus]);

  // A change of structure makes the server's step numbers stale: its messages are cleared.
  const restructure = (next: DraftStep[]) => {
    save.reset();
    setSaved(null);
    setSteps(next);
  };
  const edit = (key: number, step: WorkflowStep) => {
    setSaved(null);
    setSteps((all) => {
      const before = all.find((s) => s.key === key)?.step.id;
      return all.map((s) => {
        if (s.key === key) return { key, step };
        // A renamed step keeps the branches that pointed at it.
        if (before && step.id !== before && s.step.type === 'condition') {
          const c = { ...s.step.condition };
          if (c.then === before) c.then = step.id;
          if (c.else === before) c.else = step.id;
          return { key: s.key, step: { ...s.step, condition: c } };
        }
        return s;
      });
    });
  };
  const move = (i: number, by: -1 | 1) => {
    const next = [...steps];
    const [item] = next.splice(i, 1);
    next.splice(i + by, 0, item);
    restructure(next);
    setFocus({ key: item.key, action: by < 0 ? 'up' : 'down' });
  };
  const remove = (i: number) => {
    restructure(steps.filter((_, j) => j !== i));
    addRef.current?.focus();
  };
  const add = () => {
    const step = newStep(addType, new Set(steps.map((s) => s.step.id ?? '')));
    const item = { key: nextKey.current++, step };
    restructure([...steps, item]);
    setFocus({ key: item.key, action: 'first' });
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSaved(null);
    if (workflow) save.mutate(definition);
    else {
      save.reset();
      setConfirming(true);
    }
  };

  const stepPattern = /^steps\[\d+\]/;
  const general = errors.rest('', []).filter(
    (e) => e.field !== 'name' && !stepPattern.test(e.field) && !TRIGGER_SHOWN_PATHS.some((t) => e.field === t || e.field.startsWith(`${t}.`) || e.field.startsWith(`${t}[`)),
  );
  const erasing = steps.filter((s) => ERASING_STEPS.includes(s.step.type));

  return (
    <form onSubmit={submit} noValidate aria-label={workflow ? `Edit ${workflow.name}` : 'New workflow'} className="workflow-editor">
      <div className="card">
        <Field label="Name" error={errors.at('name')}>
          {(p) => <input {...p} value={name} onChange={(e) => (setSaved(null), setName(e.target.value))} />}
        </Field>
      </div>
      <TriggerFields trigger={trigger} onChange={(t) => (setSaved(null), setTrigger(t))} errors={errors} attributes={attributes.data?.items ?? null} />
      {errors.rest('trigger', TRIGGER_SHOWN_PATHS).map((e) => (
        <p key={e.field} className="field-error">
          {e.field}: {e.message}
        </p>
      ))}

      <h2 className="steps-title">Steps</h2>
      {steps.length === 0 && <p className="muted">No steps yet: add the first one below.</p>}
      <ol className="step-list">
        {steps.map(({ key, step }, i) => {
          const prefix = `steps[${i}]`;
          const other = errors.rest(prefix, [`${prefix}.id`, ...SHOWN_PATHS[step.type].map((p) => `${prefix}.${p}`)]);
          return (
            <li key={key} data-step-key={key}>
              <fieldset className="card step-card">
                <legend className="legend-title">{stepTitle(step, i)}</legend>
                <div className="step-head">
                  <p className="muted step-summary">{describeStep(step)}</p>
                  <div className="actions">
                    <button type="button" data-action="up" disabled={i === 0} onClick={() => move(i, -1)} aria-label={`Move step ${i + 1} up`}>
                      ↑ Up
                    </button>
                    <button type="button" data-action="down" disabled={i === steps.length - 1} onClick={() => move(i, 1)} aria-label={`Move step ${i + 1} down`}>
                      ↓ Down
                    </button>
                    <button type="button" className="danger-outline" onClick={() => remove(i)} aria-label={`Remove step ${i + 1}`}>
                      Remove
                    </button>
                  </div>
                </div>
                <Field label="Step id" error={errors.at(`${prefix}.id`)} hint="Conditions jump to a step by its id">
                  {(p) => <input {...p} className="narrow-wide" value={step.id ?? ''} onChange={(e) => edit(key, { ...step, id: e.target.value || undefined })} />}
                </Field>
                <StepFields
                  step={step}
                  onChange={(s) => edit(key, s)}
                  ctx={{
                    index: i,
                    errors,
                    targets: steps.filter((o) => o.key !== key && o.step.id).map((o) => ({ id: o.step.id!, label: `${o.step.id} (step ${steps.indexOf(o) + 1}: ${STEP_WORDS[o.step.type]})` })),
                    attributes: attributes.data?.items ?? null,
                    webhooks: webhooks.data?.items ?? null,
                  }}
                />
                {other.map((e) => (
                  <p key={e.field} className="field-error" role="alert">
                    {e.field.slice(prefix.length).replace(/^\./, '') || 'This step'}: {e.message}
                  </p>
                ))}
              </fieldset>
            </li>
          );
        })}
      </ol>
      <div className="card inline-form">
        <div className="field">
          <label htmlFor="add-step-type">Kind of step to add</label>
          <select id="add-step-type" ref={addRef} value={addType} onChange={(e) => setAddType(e.target.value as WorkflowStepType)}>
            {STEP_TYPES.map((t) => (
              <option key={t} value={t}>
                {STEP_WORDS[t]}
              </option>
            ))}
          </select>
        </div>
        <button type="button" onClick={add}>
          Add step
        </button>
      </div>

      {general.map((e) => (
        <p key={e.field} className="field-error" role="alert">
          {e.field === 'steps' ? 'Steps' : e.field}: {e.message}
        </p>
      ))}
      <FormError error={save.error} />
      {saved && (
        <p className="alert alert-success" role="status" data-testid="workflow-saved">
          {saved}
        </p>
      )}
      <div className="actions save-actions">
        <button type="submit" className="primary" disabled={save.isPending || (!!workflow && !dirty)}>
          {save.isPending ? 'Saving…' : workflow ? `Save as version ${workflow.version + 1}` : 'Create workflow'}
        </button>
        {workflow && <span className="muted">{dirty ? 'Unsaved changes.' : 'No changes since the last save.'}</span>}
      </div>
      {!workflow && (
        <ConfirmDialog
          open={confirming}
          title="Create and start this workflow?"
          confirmLabel="Create workflow"
          danger={erasing.length > 0}
          busy={save.isPending}
          error={save.error}
          onCancel={() => setConfirming(false)}
          onConfirm={() => save.mutate(definition)}
        >
          <p>It is active as soon as it is created. From now on:</p>
          <p>
            <strong>{describeTrigger(trigger)}</strong> → {steps.map((s) => describeStep(s.step)).join(' → ') || 'no steps'}.
          </p>
          {erasing.length > 0 && <p className="danger-text">Contacts who reach {erasing.length === 1 ? 'its erasing step' : 'its erasing steps'} are erased for good; this cannot be undone.</p>}
          <p className="muted">You can pause it at any time; edits make a new version.</p>
        </ConfirmDialog>
      )}
    </form>
  );
}
