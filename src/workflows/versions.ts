import type { Db } from '../context.ts';
import type { Definition } from './definition.ts';

// Versions never change once written, so a process keeps every one it has read. This module
// imports nothing at run time: the activity hook (triggers.ts) reaches it from every contact write.
const versionCache = new Map<string, Definition>();

export async function loadVersion(db: Db, workflowId: string, version: number): Promise<Definition> {
  const key = `${workflowId}:${version}`;
  const cached = versionCache.get(key);
  if (cached) return cached;
  const row = await db.selectFrom('workflow_versions').select('definition').where('workflow_id', '=', workflowId).where('version', '=', version).executeTakeFirstOrThrow();
  const definition = JSON.parse(row.definition) as Definition;
  versionCache.set(key, definition);
  return definition;
}
