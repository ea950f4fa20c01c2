import { describe, expect, it } from 'vitest';
import { visibilities } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { describeEachEngine } from '../../test/support/harness.ts';
import { canSee, visibleTo, viewerOf, type Viewer } from './visibility.ts';
import { contactRow } from '../../test/support/contact-row.ts';

const me = 'user-me';
const other = 'user-other';
const viewers: Viewer[] = [];
for (const userId of [me, null])
  for (const seeStaffOnly of [false, true]) for (const seeAllOwners of [false, true]) viewers.push({ userId, seeStaffOnly, seeAllOwners });
const contacts = visibilities.flatMap((visibility) => [me, other, null].map((owner_user_id) => ({ visibility, owner_user_id })));

describe('canSee', () => {
  it.each(viewers)('viewer %o', (viewer) => {
    for (const c of contacts) {
      const expected =
        c.visibility === 'everyone' ||
        (c.visibility === 'staff_only' && viewer.seeStaffOnly) ||
        (c.visibility === 'owner_only' && (viewer.seeAllOwners || (viewer.userId !== null && c.owner_user_id === viewer.userId)));
      expect(canSee(viewer, c), `${c.visibility}/${c.owner_user_id}`).toBe(expected);
    }
  });

  it('an employer user sees neither staff-only contacts nor owner-only contacts of others', () => {
    const employer = viewerOf(me, new Set(['contacts.read']));
    expect(canSee(employer, { visibility: 'staff_only', owner_user_id: me })).toBe(false);
    expect(canSee(employer, { visibility: 'owner_only', owner_user_id: other })).toBe(false);
    expect(canSee(employer, { visibility: 'owner_only', owner_user_id: me })).toBe(true);
    expect(canSee(employer, { visibility: 'everyone', owner_user_id: null })).toBe(true);
  });
});

describeEachEngine('visibleTo agrees with canSee', (h) => {
  it('for every viewer and every kind of contact', async () => {
    const t = await h.tenant();
    const now = h.clock.now().toISOString();
    const owners = { [me]: t.admin.id, [other]: (await h.user(t, 'staff')).id } as Record<string, string>;
    const rows = contacts.map((c) => ({ id: newId(), ...c }));
    for (const r of rows) {
      await h.ctx.db
        .insertInto('contacts')
        .values(
          contactRow({
            id: r.id,
            institution_id: t.institutionId,
            owner_user_id: r.owner_user_id ? owners[r.owner_user_id] : null,
            visibility: r.visibility,
            created_at: now,
            updated_at: now,
          }),
        )
        .execute();
    }
    for (const v of viewers) {
      const viewer = { ...v, userId: v.userId ? owners[v.userId] : null };
      const found = await h.ctx.db
        .selectFrom('contacts')
        .select('id')
        .where('institution_id', '=', t.institutionId)
        .where(visibleTo(viewer))
        .execute();
      const expected = rows.filter((r) => canSee(viewer, { visibility: r.visibility, owner_user_id: r.owner_user_id ? owners[r.owner_user_id] : null }));
      expect(found.map((f) => f.id).sort(), JSON.stringify(v)).toEqual(expected.map((r) => r.id).sort());
    }
  });
});
