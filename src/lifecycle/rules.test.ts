import { describe, expect, it } from 'vitest';
import { approvalStatuses } from '../db/schema.ts';
import { actionPermission, decide, editRefusal, eventOf, lifecycleActions, type LifecycleAction, type LifecycleState } from './rules.ts';
import { nextScrubAt } from './storage.ts';

const existing: LifecycleState[] = approvalStatuses.flatMap((approval) =>
  [false, true].flatMap((disabled) => [false, true].map((archived) => ({ exists: true as const, disabled, approval, archived }))),
);
const gone: LifecycleState[] = [
  { exists: false, erased: null },
  { exists: false, erased: 'deleted' },
  { exists: false, erased: 'expunged' },
];

/** The expected decision for every action in every state, written out as the seeds describe them. */
function expected(action: LifecycleAction, s: LifecycleState): 'apply' | 'noop' | 404 | 409 | 410 {
  if (!s.exists) {
    if (s.erased === null) return 404;
    if (action === 'expunge') return s.erased === 'expunged' ? 'noop' : 'apply';
    if (action === 'delete') return 'noop';
    return 410;
  }
  if (action === 'delete' || action === 'expunge') return 'apply';
  if (action === 'disable') return s.disabled ? 'noop' : 'apply';
  if (action === 'restore') return s.disabled ? 'apply' : 'noop';
  if (s.disabled) return 409;
  if (action === 'reject') return s.approval === 'rejected' ? 'noop' : 'apply';
  if (action === 'approve') return s.approval === 'approved' ? 'noop' : 'apply';
  if (s.approval === 'rejected') return 409;
  if (action === 'archive') return s.archived ? 'noop' : 'apply';
  return s.archived ? 'apply' : 'noop'; // unarchive
}

describe('lifecycle decisions', () => {
  for (const action of lifecycleActions) {
    for (const state of [...existing, ...gone]) {
      it(`${action} on ${JSON.stringify(state)}`, () => {
        const d = decide(action, state);
        const want = expected(action, state);
        if (want === 'apply' || want === 'noop') expect(d.kind).toBe(want);
        else expect(d).toMatchObject({ kind: 'refuse', status: want });
        // A refusal or a no-op always says why, in words a person can act on.
        if (d.kind !== 'apply') expect(d.why).toMatch(/^The contact|^Contact was not found/);
      });
    }
  }

  it('tells a disabled contact to be restored first and a rejected one to be approved first', () => {
    expect(decide('archive', { exists: true, disabled: true, approval: 'approved', archived: false })).toMatchObject({ why: expect.stringContaining('restore it first') });
    expect(decide('archive', { exists: true, disabled: false, approval: 'rejected', archived: false })).toMatchObject({ why: expect.stringContaining('approve it first') });
  });

  it('needs contacts.delete to delete, contacts.expunge to expunge, contacts.write for the reversible actions', () => {
    expect(actionPermission).toEqual({
      disable: 'contacts.write',
      restore: 'contacts.write',
      archive: 'contacts.write',
      unarchive: 'contacts.write',
      reject: 'contacts.write',
      approve: 'contacts.write',
      delete: 'contacts.delete',
      expunge: 'contacts.expunge',
    });
  });

  it('announces deletions (soft and hard), expunges and restores to webhooks, nothing else', () => {
    expect(Object.fromEntries(lifecycleActions.map((a) => [a, eventOf(a)]))).toEqual({
      disable: 'contact.deleted',
      restore: 'contact.restored',
      archive: null,
      unarchive: null,
      reject: null,
      approve: null,
      delete: 'contact.deleted',
      expunge: 'contact.expunged',
    });
  });
});

describe('edits of a contact in each state', () => {
  const cases: [string, { disabled: boolean; approval: (typeof approvalStatuses)[number] }, string[], boolean][] = [];
  for (const approval of approvalStatuses) {
    for (const disabled of [false, true]) {
      for (const fields of [['firstName'], ['approvalStatus'], ['optInStatus'], ['authorizations'], ['notes'], ['approvalStatus', 'firstName'], []]) {
        const consentOnly = fields.every((f) => f === 'optInStatus' || f === 'authorizations');
        const refused = disabled ? !consentOnly : approval === 'rejected' && fields.some((f) => f !== 'approvalStatus' && f !== 'optInStatus' && f !== 'authorizations');
        cases.push([`${fields.join('+') || 'nothing'} of a ${disabled ? 'disabled ' : ''}${approval} contact`, { disabled, approval }, fields, refused]);
      }
    }
  }
  for (const [title, state, fields, refused] of cases) {
    it(`${refused ? 'refuses' : 'allows'} changing ${title}`, () => {
      const why = editRefusal(state, fields);
      if (refused) expect(why).toMatch(state.disabled ? /disabled.*restore/ : /rejected.*frozen/);
      else expect(why).toBeNull();
    });
  }
});

describe('PostgreSQL scrub schedule', () => {
  it('runs at the next 03:00 UTC, never at once', () => {
    expect(nextScrubAt(new Date('2026-01-15T09:00:00Z')).toISOString()).toBe('2026-01-16T03:00:00.000Z');
    expect(nextScrubAt(new Date('2026-01-15T02:59:59Z')).toISOString()).toBe('2026-01-15T03:00:00.000Z');
    expect(nextScrubAt(new Date('2026-01-15T03:00:00Z')).toISOString()).toBe('2026-01-16T03:00:00.000Z');
    expect(nextScrubAt(new Date('2026-12-31T23:00:00Z')).toISOString()).toBe('2027-01-01T03:00:00.000Z');
  });
});
