import type { AppContext } from '../context.ts';
import { getContactProfile } from '../contacts/contact-profile.ts';
import { systemViewer } from '../contacts/visibility.ts';
import { existingDataKey } from '../audit/data-keys.ts';
import { open } from '../security/aead.ts';
import { escapeHtml } from '../mail/template.ts';

/**
 * Everything Lethe holds about a person (right of access, seed 004): profile, custom attributes,
 * consent with its timestamps and history, notes, meetings, tasks, activity, the change history
 * kept in the audit log, projects and sequences, and any other record that names the contact
 * (applications, orders, emails…: found by their contact_id column, so later features are
 * included without changes here). Keyed hashes (SSN) are named but never shown.
 */

const covered = new Set([
  'contacts',
  'contact_notes',
  'contact_meetings',
  'contact_tasks',
  'activity_events',
  'contact_attribute_values',
  'contact_authorizations',
  'contact_employments',
  'project_contacts',
  'sequence_enrollments',
  'exports',
]);
const protectedColumn = /(hash|password|token|secret|wrapped|key$)/i;
const internalColumn = /^(institution_id|contact_id)$/;
const RECORD_LIMIT = 10_000;

export interface SubjectRecord {
  profile: unknown;
  protectedData: string[];
  consent: { optInStatus: string; optInChangedAt: string | null; authorizations: unknown; history: unknown[] };
  notes: unknown[];
  meetings: unknown[];
  tasks: unknown[];
  activity: unknown[];
  changeHistory: unknown[];
  projects: unknown[];
  sequences: unknown[];
  otherRecords: Record<string, unknown[]>;
}

/** Hides keyed hashes and secrets at any depth of a record. */
function shown(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `(binary data, ${value.length} bytes)`;
  if (Array.isArray(value)) return value.map(shown);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, protectedColumn.test(k) && v !== null ? '(held in protected form; never shown)' : shown(v)]),
    );
  }
  return value;
}

/**
 * A value sealed with the person's own data key (features seal what a person entered, e.g. an
 * application, with additional data "<entity>:<row id>") is opened for their copy.
 */
function unsealed(key: Buffer | null, table: string, rowId: unknown, sealed: string): unknown {
  if (!key) return '(no longer readable)';
  for (const aad of [`${table.replace(/s$/, '')}:${String(rowId)}`, String(rowId), undefined]) {
    try {
      const text = open(key, sealed, aad).toString('utf8');
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    } catch {
      // try the next binding
    }
  }
  return '(held in protected form; never shown)';
}

async function otherRecords(ctx: AppContext, institutionId: string, contactId: string, key: Buffer | null): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  const tables = await ctx.db.introspection.getTables();
  for (const table of tables.sort((a, b) => a.name.localeCompare(b.name))) {
    if (covered.has(table.name) || !table.columns.some((c) => c.name === 'contact_id')) continue;
    let q = (ctx.db as any).selectFrom(table.name).selectAll().where('contact_id', '=', contactId);
    if (table.columns.some((c) => c.name === 'institution_id')) q = q.where('institution_id', '=', institutionId);
    const rows = (await q.limit(RECORD_LIMIT).execute()) as Record<string, unknown>[];
    if (!rows.length) continue;
    out[table.name] = rows.map((r) =>
      Object.fromEntries(
        Object.entries(r)
          .filter(([k]) => !internalColumn.test(k))
          .map(([k, v]) => (k.endsWith('_enc') && typeof v === 'string' ? [k.slice(0, -4), shown(unsealed(key, table.name, r.id, v))] : [k, protectedColumn.test(k) && v !== null ? '(held in protected form; never shown)' : shown(v)])),
      ),
    );
  }
  return out;
}

export async function subjectRecord(ctx: AppContext, institutionId: string, contactId: string): Promise<SubjectRecord> {
  const db = ctx.db;
  const profile = await getContactProfile(db, institutionId, systemViewer, contactId);
  const row = await db.selectFrom('contacts').select(['ssn_hash_full', 'ssn_hash_last6', 'ssn_hash_last4']).where('id', '=', contactId).executeTakeFirstOrThrow();
  const protectedData = row.ssn_hash_full || row.ssn_hash_last6 || row.ssn_hash_last4 ? ['Social security number: kept only as keyed hashes for duplicate checks; it cannot be read back.'] : [];

  const [notes, meetings, tasks, activity, projects, sequences] = await Promise.all([
    db.selectFrom('contact_notes').select(['body', 'created_at', 'updated_at']).where('contact_id', '=', contactId).orderBy('created_at').execute(),
    db.selectFrom('contact_meetings').select(['title', 'scheduled_at', 'notes', 'created_at']).where('contact_id', '=', contactId).orderBy('scheduled_at').execute(),
    db.selectFrom('contact_tasks').select(['title', 'due_at', 'done', 'created_at']).where('contact_id', '=', contactId).orderBy('created_at').execute(),
    db.selectFrom('activity_events').select(['seq', 'type', 'occurred_at', 'data']).where('contact_id', '=', contactId).orderBy('seq').limit(RECORD_LIMIT).execute(),
    db
      .selectFrom('project_contacts')
      .innerJoin('projects', 'projects.id', 'project_contacts.project_id')
      .select(['projects.name', 'project_contacts.added_at'])
      .where('project_contacts.contact_id', '=', contactId)
      .orderBy('project_contacts.added_at')
      .execute(),
    db
      .selectFrom('sequence_enrollments')
      .innerJoin('sequences', 'sequences.id', 'sequence_enrollments.sequence_id')
      .select(['sequence_enrollments.id', 'sequences.name', 'sequence_enrollments.status', 'sequence_enrollments.enrolled_at'])
      .where('sequence_enrollments.contact_id', '=', contactId)
      .orderBy('sequence_enrollments.enrolled_at')
      .execute(),
  ]);
  const stepStatuses = sequences.length
    ? await db
        .selectFrom('sequence_step_statuses as s')
        .innerJoin('sequence_steps as st', 'st.id', 's.step_id')
        .select(['s.enrollment_id', 'st.position', 'st.subject', 's.status', 's.updated_at'])
        .where(
          's.enrollment_id',
          'in',
          sequences.map((s) => s.id),
        )
        .orderBy('st.position')
        .execute()
    : [];

  // The change history sealed with the person's own data key.
  const key = await existingDataKey(db, ctx.secrets.masterKey, contactId);
  const audit = await db
    .selectFrom('audit_log')
    .select(['action', 'occurred_at', 'before_enc', 'after_enc'])
    .where('chain', '=', institutionId)
    .where('subject_id', '=', contactId)
    .orderBy('seq')
    .limit(RECORD_LIMIT)
    .execute();
  const unseal = (v: string | null) => (v && key ? JSON.parse(open(key, v, contactId).toString('utf8')) : null);
  const changeHistory = audit.map((a) => ({ action: a.action, at: a.occurred_at, before: unseal(a.before_enc), after: unseal(a.after_enc) }));

  const activityViews = activity.map((a) => ({ type: a.type, at: a.occurred_at, data: a.data ? JSON.parse(a.data) : null }));
  return {
    profile,
    protectedData,
    consent: {
      optInStatus: profile.optInStatus,
      optInChangedAt: profile.optInChangedAt,
      authorizations: profile.authorizations,
      history: [
        ...activityViews.filter((a) => a.type.startsWith('consent.')),
        ...changeHistory.filter((c) => c.action === 'contact.consent').map((c) => ({ type: c.action, at: c.at, before: c.before, after: c.after })),
      ].sort((x, y) => String(x.at).localeCompare(String(y.at))),
    },
    notes: notes.map((n) => ({ body: n.body, createdAt: n.created_at, updatedAt: n.updated_at })),
    meetings: meetings.map((m) => ({ title: m.title, scheduledAt: m.scheduled_at, notes: m.notes, createdAt: m.created_at })),
    tasks: tasks.map((t) => ({ title: t.title, dueAt: t.due_at, done: t.done === 1, createdAt: t.created_at })),
    activity: activityViews,
    changeHistory,
    projects: projects.map((p) => ({ name: p.name, addedAt: p.added_at })),
    sequences: sequences.map((s) => ({
      name: s.name,
      status: s.status,
      enrolledAt: s.enrolled_at,
      steps: stepStatuses.filter((st) => st.enrollment_id === s.id).map((st) => ({ position: st.position, subject: st.subject, status: st.status, updatedAt: st.updated_at })),
    })),
    otherRecords: await otherRecords(ctx, institutionId, contactId, key),
  };
}

function htmlValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '<span class="none">—</span>';
  if (Array.isArray(value)) return value.length ? `<ul>${value.map((v) => `<li>${htmlValue(v)}</li>`).join('')}</ul>` : '<span class="none">none</span>';
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return entries.length
      ? `<table>${entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${htmlValue(v)}</td></tr>`).join('')}</table>`
      : '<span class="none">none</span>';
  }
  return escapeHtml(String(value));
}

const sectionTitles: [keyof SubjectRecord, string][] = [
  ['profile', 'Your profile'],
  ['protectedData', 'Data kept in protected form'],
  ['consent', 'Your consent and its history'],
  ['notes', 'Notes'],
  ['meetings', 'Meetings'],
  ['tasks', 'Tasks'],
  ['projects', 'Lists (projects) you are on'],
  ['sequences', 'Email sequences you are enrolled in'],
  ['activity', 'Activity'],
  ['changeHistory', 'History of changes to your record'],
  ['otherRecords', 'Other records (applications, orders, emails…)'],
];

export function subjectHtml(records: SubjectRecord[], producedAt: string): string {
  const body = records
    .map(
      (r, i) =>
        `${records.length > 1 ? `<h2>Record ${i + 1}</h2>` : ''}` +
        sectionTitles.map(([key, title]) => `<section><h3>${escapeHtml(title)}</h3>${htmlValue(r[key])}</section>`).join('\n'),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your personal data</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}table{border-collapse:collapse;margin:.25rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4;font-weight:600}.none{color:#888}section{margin-bottom:1.5rem}</style>
</head><body>
<h1>Your personal data</h1>
<p>This is everything we hold about you, as of ${escapeHtml(producedAt)}. The same data is in <code>personal-data.json</code> for use by other programs.</p>
${body}
</body></html>
`;
}

/** The subject-access documents: a JSON copy for programs and a readable HTML page. */
export async function subjectAccessFiles(ctx: AppContext, institutionId: string, contactIds: string[], producedAt: Date): Promise<{ name: string; content: Buffer }[]> {
  const records: SubjectRecord[] = [];
  for (const id of contactIds) records.push(await subjectRecord(ctx, institutionId, id));
  const at = producedAt.toISOString();
  return [
    { name: 'personal-data.json', content: Buffer.from(JSON.stringify({ producedAt: at, records }, null, 2) + '\n') },
    { name: 'personal-data.html', content: Buffer.from(subjectHtml(records, at)) },
  ];
}
