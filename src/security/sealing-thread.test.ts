import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { open, seal } from './aead.ts';
import { sealForSubjects, sealingThreadRunning, THREAD_MIN_SUBJECTS, type SealRequest } from './sealing-thread.ts';

const master = randomBytes(32);

function subjects(n: number) {
  return Array.from({ length: n }, (_, i) => {
    const subjectId = `subject-${i}`;
    const key = randomBytes(32);
    const request: SealRequest = { subjectId, wrappedKey: seal(master, key, subjectId), values: [JSON.stringify({ before: i }), i % 3 === 0 ? null : JSON.stringify({ after: `é${i}` })] };
    return { key, request };
  });
}

describe('sealing for many subjects', () => {
  for (const [where, n] of [
    ['in place (a small batch)', THREAD_MIN_SUBJECTS - 1],
    ['on the sealing thread (a large batch)', THREAD_MIN_SUBJECTS * 3],
  ] as const) {
    it(`seals ${where} values that aead.open reads with each subject's own key and id, with fresh IVs`, async () => {
      const batch = subjects(n);
      const sealed = await sealForSubjects(master, batch.map((b) => b.request)).result();
      if (n >= THREAD_MIN_SUBJECTS) expect(sealingThreadRunning(master)).toBe(true);
      expect(sealed).toHaveLength(n);
      sealed.forEach((values, i) => {
        const { key, request } = batch[i];
        values.forEach((value, v) => {
          if (request.values[v] === null) return expect(value).toBeNull();
          expect(open(key, value!, request.subjectId).toString('utf8')).toBe(request.values[v]);
          // bound to its subject: another id as AAD does not open it
          expect(() => open(key, value!, 'subject-other')).toThrow();
        });
      });
      const ivs = sealed.flat().flatMap((v) => (v ? [v.split('.')[1]] : []));
      expect(new Set(ivs).size).toBe(ivs.length);
    });
  }

  it('seals here what the thread has not taken, so a batch never waits behind another one', async () => {
    const opensWithItsKey = (batch: ReturnType<typeof subjects>, sealed: (string | null)[][]) =>
      sealed.every((values, i) => values.every((value, v) => (value === null ? batch[i].request.values[v] === null : open(batch[i].key, value, batch[i].request.subjectId).toString('utf8') === batch[i].request.values[v])));
    const large = subjects(20_000);
    // The thread works on this one for a while: nobody asks for its result yet.
    const busy = sealForSubjects(master, large.map((b) => b.request));
    const batch = subjects(THREAD_MIN_SUBJECTS * 2);
    const mine = sealForSubjects(master, batch.map((b) => b.request));
    const sealed = await mine.result();
    expect(mine.sealedHere).toBe(batch.length);
    expect(opensWithItsKey(batch, sealed)).toBe(true);
    // The large one is shared: the thread sealed the first part, this thread the rest.
    const all = await busy.result();
    expect(busy.sealedHere).toBeGreaterThan(0);
    expect(busy.sealedHere).toBeLessThan(large.length);
    expect(opensWithItsKey(large, all)).toBe(true);
  });

  it('seals values that are not JSON text (empty, or holding a NUL) in place, exactly', async () => {
    const batch = subjects(THREAD_MIN_SUBJECTS * 2);
    batch[3].request.values = ['', 'a\0b'];
    const sealing = sealForSubjects(master, batch.map((b) => b.request));
    const sealed = await sealing.result();
    expect(sealing.sealedHere).toBe(batch.length);
    expect(open(batch[3].key, sealed[3][0]!, batch[3].request.subjectId).toString('utf8')).toBe('');
    expect(open(batch[3].key, sealed[3][1]!, batch[3].request.subjectId).toString('utf8')).toBe('a\0b');
  });

  it('refuses a wrapped key that does not open with the master key, on the thread and in place', async () => {
    for (const n of [2, THREAD_MIN_SUBJECTS * 2]) {
      const batch = subjects(n).map((b) => b.request);
      batch[1] = { ...batch[1], wrappedKey: seal(randomBytes(32), randomBytes(32), batch[1].subjectId) };
      await expect(sealForSubjects(master, batch).result()).rejects.toThrow();
    }
  });
});
