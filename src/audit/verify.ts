import type { Db } from '../context.ts';
import { entryHash } from './audit-log.ts';

export interface ChainProblem {
  chain: string;
  seq: number | null;
  problem: string;
}

export interface VerifyResult {
  ok: boolean;
  chains: number;
  entries: number;
  problems: ChainProblem[];
}

/**
 * Walks every chain: each entry's hash must match its content and point at the previous entry,
 * and the chain head must point at the last entry, so edits, removals and truncations all show.
 */
export async function verifyAuditLog(db: Db, onProgress?: (checked: number) => void): Promise<VerifyResult> {
  const heads = await db.selectFrom('audit_chain_heads').selectAll().orderBy('chain').execute();
  const problems: ChainProblem[] = [];
  let entries = 0;
  for (const head of heads) {
    let expectedPrev = head.anchor_hash;
    let lastSeq = 0;
    let lastHash = head.anchor_hash;
    for (;;) {
      const batch = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', head.chain)
        .where('seq', '>', lastSeq)
        .orderBy('seq')
        .limit(1000)
        .execute();
      if (batch.length === 0) break;
      for (const row of batch) {
        const { seq, hash, ...fields } = row;
        if (row.prev_hash !== expectedPrev) {
          problems.push({ chain: head.chain, seq: Number(seq), problem: 'an entry before this one was removed or reordered' });
        }
        if (entryHash(fields) !== hash) {
          problems.push({ chain: head.chain, seq: Number(seq), problem: 'this entry was edited after it was written' });
        }
        expectedPrev = hash;
        lastSeq = Number(seq);
        lastHash = hash;
        entries++;
      }
      onProgress?.(entries);
    }
    if (lastSeq !== Number(head.last_seq) || lastHash !== head.last_hash) {
      problems.push({ chain: head.chain, seq: Number(head.last_seq), problem: 'the newest entries of this chain were removed' });
    }
  }
  return { ok: problems.length === 0, chains: heads.length, entries, problems };
}
