import { expect, it } from 'vitest';
import { builtinRoles, type Permission } from '../access/permissions.ts';
import { jobPermissions, mayHandleJob } from './job-permissions.ts';

const role = (key: keyof typeof builtinRoles) => new Set<Permission>(builtinRoles[key].permissions);
const bulk = (action: string) => JSON.stringify({ input: { action } });

it('lets only those who may start a kind of job see and cancel it', () => {
  expect(jobPermissions('lifecycle.bulk', bulk('expunge'))).toEqual(['contacts.expunge']);
  expect(jobPermissions('lifecycle.bulk', bulk('delete'))).toEqual(['contacts.delete']);
  expect(jobPermissions('lifecycle.bulk', bulk('update'))).toEqual(['contacts.write']);
  expect(jobPermissions('lifecycle.storage-scrub-or-anything-new', '{}')).toEqual(['users.manage']);

  // A privacy officer runs retention and expunges but edits nothing: they may cancel their retention run and an expunge, not an import.
  const officer = role('privacy_officer');
  expect(mayHandleJob(officer, { kind: 'retention.inactive', payload: '{}' })).toBe(true);
  expect(mayHandleJob(officer, { kind: 'lifecycle.bulk', payload: bulk('expunge') })).toBe(true);
  expect(mayHandleJob(officer, { kind: 'import.csv', payload: '{}' })).toBe(false);
  // Staff may not stop an erasure or a retention run; an employer user sees no job at all.
  const staff = role('staff');
  expect(mayHandleJob(staff, { kind: 'lifecycle.bulk', payload: bulk('archive') })).toBe(true);
  expect(mayHandleJob(staff, { kind: 'lifecycle.bulk', payload: bulk('expunge') })).toBe(false);
  expect(mayHandleJob(staff, { kind: 'retention.inactive', payload: '{}' })).toBe(false);
  for (const kind of ['import.csv', 'export.produce', 'retention.inactive', 'possible-duplicates.scan', 'lifecycle.bulk']) {
    expect(mayHandleJob(role('employer_user'), { kind, payload: bulk('archive') })).toBe(false);
  }
});
