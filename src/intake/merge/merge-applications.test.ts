import { expect, it } from 'vitest';
import { describeEachEngine } from '../../../test/support/harness.ts';
import { intakeApi } from '../intake-test-api.ts';

/**
 * An application keeps what the applicant typed sealed with its contact's data key. A merge
 * destroys the other contact's key, so its applications must be re-sealed for the survivor:
 * otherwise they arrive on the survivor unreadable.
 */
describeEachEngine('merging a contact that has applications', (h) => {
  it('moves the applications to the survivor still readable, and audits the move', async () => {
    const t = await h.tenant();
    const api = intakeApi(h, t);
    const form = await api.createForm({ name: 'Open roles' });
    const applied = await api.apply(form.id, { firstName: 'Anne', lastName: 'Lee', email: 'anne.merge@example.org', mobilePhone: '+1 212 555 0142' });
    expect(applied.statusCode, applied.body).toBe(201);
    const other = await h.ctx.db.selectFrom('contacts').select('id').where('institution_id', '=', t.institutionId).where('email_normalized', '=', 'anne.merge@example.org').executeTakeFirstOrThrow();
    const survivor = await api.createContact({ firstName: 'Ann', lastName: 'Lee', email: 'ann.merge@example.org', onDuplicate: 'create_anyway' });
    const before = await api.applications(other.id);
    expect(before).toHaveLength(1);
    expect(before[0].submitted).toMatchObject({ firstName: 'Anne', email: 'anne.merge@example.org' });

    const res = await h.request(t.admin.token, { method: 'POST', url: `/api/contacts/${survivor.id}/merge`, payload: { otherId: other.id } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().moved).toMatchObject({ applications: 1 });

    const after = await api.applications(survivor.id);
    expect(after.map((a) => a.id)).toEqual([before[0].id]);
    expect(after[0].submitted).toEqual(before[0].submitted);
    const [entry] = await api.audit(`action=contact.merge&targetId=${survivor.id}`);
    expect(entry.meta).toMatchObject({ mergedId: other.id, moved: { applications: 1 } });
  });
});
