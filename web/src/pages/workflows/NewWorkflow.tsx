import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { FormError, Loading } from '../../components.tsx';
import { Link, navigate } from '../../router.tsx';
import type { WorkflowDefinition } from '../../types.ts';
import { WorkflowEditor } from './WorkflowEditor.tsx';
import { noteCreated } from './created.ts';
import './workflows.css';

const TEMPLATE_WORDS: Record<string, { title: string; about: string }> = {
  opt_in_or_expunge: {
    title: 'New workflow from the seed 000 template',
    about:
      'Contacts added by a recruiter (by hand or by bulk import) get an email asking them to opt in; after 30 days, those who have not opted in are expunged, with a last email confirming it. Adjust it below; nothing runs until you create it.',
  },
  consent_renewal: {
    title: 'New workflow from the consent-renewal template',
    about: 'Contacts you enroll (e.g. inactive for years) get a link to the consent-renewal page; the click counts as activity (seed 004). Nothing runs until you create it.',
  },
};

const BLANK: WorkflowDefinition = { name: '', trigger: { type: 'manual' }, steps: [] };

/** A new workflow: blank, or a shipped template loaded as a draft to review before it is created. */
export function NewWorkflowPage({ template }: { template?: string }) {
  const templates = useQuery({
    queryKey: ['workflow-templates'],
    queryFn: () => api.get<{ items: { key: string; definition: WorkflowDefinition }[] }>('/api/workflow-templates'),
    enabled: !!template,
    staleTime: Infinity,
  });
  const words = template ? TEMPLATE_WORDS[template] : undefined;
  let initial: WorkflowDefinition | undefined = BLANK;
  if (template) initial = templates.data?.items.find((t) => t.key === template)?.definition;
  return (
    <section>
      <p>
        <Link to="/workflows">← Workflows</Link>
      </p>
      <h1>{words?.title ?? 'New workflow'}</h1>
      {words && <p className="alert alert-info">{words.about}</p>}
      {template && templates.isPending ? (
        <Loading />
      ) : templates.isError ? (
        <FormError error={templates.error} />
      ) : !initial ? (
        <p className="alert alert-error" role="alert">
          There is no template "{template}".
        </p>
      ) : (
        <WorkflowEditor
          key={template ?? 'blank'}
          initial={initial}
          onCreated={(w) => {
            noteCreated(w.id);
            navigate(`/workflows/${w.id}`, true);
          }}
        />
      )}
    </section>
  );
}
