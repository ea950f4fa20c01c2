import { useId } from 'react';
import type { InactiveReport } from '../../types.ts';
import { plural } from './words.ts';

interface Bar {
  label: string;
  contacts: number;
  /** wholly before the cutoff: these contacts are in the batch's set (unless already anonymised) */
  inactive: 'yes' | 'partly' | 'no';
}

/** Months from the first to the last, with the empty ones in between, so the time axis is even; years when that is too many bars. */
function bars(histogram: InactiveReport['histogram'], cutoff: string): Bar[] {
  if (histogram.length === 0) return [];
  const counts = new Map(histogram.map((b) => [b.month, b.contacts]));
  const [fy, fm] = histogram[0].month.split('-').map(Number);
  const [ly, lm] = histogram[histogram.length - 1].month.split('-').map(Number);
  const cutoffMonth = cutoff.slice(0, 7);
  const span = (ly - fy) * 12 + (lm - fm) + 1;
  if (span > 180) {
    const byYear = new Map<number, number>();
    for (const b of histogram) byYear.set(Number(b.month.slice(0, 4)), (byYear.get(Number(b.month.slice(0, 4))) ?? 0) + b.contacts);
    const cutoffYear = Number(cutoff.slice(0, 4));
    const out: Bar[] = [];
    for (let y = fy; y <= ly; y++) out.push({ label: String(y), contacts: byYear.get(y) ?? 0, inactive: y < cutoffYear ? 'yes' : y === cutoffYear ? 'partly' : 'no' });
    return out;
  }
  const out: Bar[] = [];
  for (let i = 0; i < span; i++) {
    const y = fy + Math.floor((fm - 1 + i) / 12);
    const m = ((fm - 1 + i) % 12) + 1;
    const label = `${y}-${String(m).padStart(2, '0')}`;
    out.push({ label, contacts: counts.get(label) ?? 0, inactive: label < cutoffMonth ? 'yes' : label === cutoffMonth ? 'partly' : 'no' });
  }
  return out;
}

const W = 720;
const H = 200;
const PAD = { top: 16, right: 8, bottom: 34, left: 44 };
const INACTIVE = '#b42318';
const ACTIVE = '#0b5cad';
const CUTOFF_MONTH = '#8a5300';

/**
 * The last-activity histogram of a run's report: every contact of the institution by the month of
 * its recency, the months before the cutoff set apart (colour and a hatched pattern, so colour is
 * not the only cue), with the same figures as a table for screen readers and anyone who prefers one.
 */
export function Histogram({ histogram, cutoff, months }: { histogram: InactiveReport['histogram']; cutoff: string; months: number }) {
  const id = useId();
  const data = bars(histogram, cutoff);
  if (data.length === 0) return <p className="muted">No contacts to chart.</p>;
  const max = Math.max(1, ...data.map((b) => b.contacts));
  const total = data.reduce((s, b) => s + b.contacts, 0);
  const before = data.filter((b) => b.inactive === 'yes').reduce((s, b) => s + b.contacts, 0);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = plotW / data.length;
  const barW = Math.max(1, step * 0.8);
  const yearly = data[0].label.length === 4;
  const tickEvery = yearly ? Math.ceil(data.length / 12) : data.length <= 14 ? 1 : data.length <= 48 ? 6 : 12;
  const cutoffIndex = data.findIndex((b) => b.inactive !== 'yes');
  const cutoffX = PAD.left + (cutoffIndex === -1 ? data.length : cutoffIndex) * step;
  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const unit = yearly ? 'year' : 'month';
  return (
    <figure className="histogram" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>
        <strong>Last activity of contacts, by {unit}</strong>
        <span className="muted"> — every contact of the institution not yet anonymised; the batch takes those whose last activity is before the cutoff ({months} months).</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={titleId} aria-describedby={descId} className="histogram-svg">
        <title id={titleId}>Last activity of contacts, by {unit}</title>
        <desc id={descId}>
          {plural(total, 'contact')} from {data[0].label} to {data[data.length - 1].label}; {plural(before, 'contact')} last active before the cutoff {unit}, {cutoff.slice(0, 10)}. The table below
          gives every {unit}.
        </desc>
        <defs>
          <pattern id={`${id}-hatch`} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill={INACTIVE} />
            <line x1="0" y1="0" x2="0" y2="6" stroke="#fff" strokeWidth="2" />
          </pattern>
        </defs>
        <line x1={PAD.left} y1={PAD.top + plotH} x2={W - PAD.right} y2={PAD.top + plotH} stroke="#57606a" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={PAD.top + plotH} stroke="#57606a" />
        <text x={PAD.left - 6} y={PAD.top + 4} textAnchor="end" fontSize="11" fill="#57606a">
          {max}
        </text>
        <text x={PAD.left - 6} y={PAD.top + plotH} textAnchor="end" fontSize="11" fill="#57606a">
          0
        </text>
        {data.map((b, i) => {
          const h = (b.contacts / max) * plotH;
          const x = PAD.left + i * step + (step - barW) / 2;
          return (
            <g key={b.label}>
              {b.contacts > 0 && (
                <rect x={x} y={PAD.top + plotH - h} width={barW} height={Math.max(h, 1)} fill={b.inactive === 'yes' ? `url(#${id}-hatch)` : b.inactive === 'partly' ? CUTOFF_MONTH : ACTIVE}>
                  <title>
                    {b.label}: {plural(b.contacts, 'contact')}
                    {b.inactive === 'yes' ? ', before the cutoff' : ''}
                  </title>
                </rect>
              )}
              {i % tickEvery === 0 && (
                <text x={PAD.left + i * step + step / 2} y={H - PAD.bottom + 14} textAnchor="middle" fontSize="11" fill="#57606a">
                  {yearly || tickEvery < 12 ? b.label : b.label.slice(0, 4)}
                </text>
              )}
            </g>
          );
        })}
        <line x1={cutoffX} y1={PAD.top - 8} x2={cutoffX} y2={PAD.top + plotH} stroke="#1b1f24" strokeDasharray="4 3" strokeWidth="1.5" />
        <text x={cutoffX + 4} y={PAD.top - 2} fontSize="11" fill="#1b1f24">
          cutoff {cutoff.slice(0, 10)}
        </text>
      </svg>
      <ul className="histogram-legend" aria-hidden="true">
        <li>
          <span className="swatch swatch-inactive" /> Before the cutoff {unit}: inactive
        </li>
        <li>
          <span className="swatch swatch-cutoff" /> The cutoff {unit} (partly before)
        </li>
        <li>
          <span className="swatch swatch-active" /> After: active
        </li>
      </ul>
      <details>
        <summary>The histogram as a table</summary>
        <div className="table-scroll histogram-table">
          <table className="table">
            <caption className="sr-only">Contacts by {unit} of last activity</caption>
            <thead>
              <tr>
                <th scope="col">{yearly ? 'Year' : 'Month'} of last activity</th>
                <th scope="col">Contacts</th>
                <th scope="col">Before the cutoff</th>
              </tr>
            </thead>
            <tbody>
              {data
                .filter((b) => b.contacts > 0)
                .map((b) => (
                  <tr key={b.label}>
                    <th scope="row">{b.label}</th>
                    <td>{b.contacts.toLocaleString()}</td>
                    <td>{b.inactive === 'yes' ? 'Yes' : b.inactive === 'partly' ? 'Partly' : 'No'}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
