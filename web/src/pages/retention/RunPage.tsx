import { Link, navigate } from '../../router.tsx';
import { RunPanel } from './RunPanel.tsx';
import './retention.css';

/** One past run of the batch and its report (a simulation can be executed from here too). */
export function RetentionRunPage({ id }: { id: string }) {
  return (
    <section>
      <p>
        <Link to="/retention">← Retention</Link>
      </p>
      <h1>Run of the inactive-contact batch</h1>
      <RunPanel key={id} runId={id} focusOnMount onExecuted={(run) => navigate(`/retention/runs/${run.id}`)} />
    </section>
  );
}
