import { loadConfig } from '../config.ts';
import type { AppContext } from '../context.ts';
import { openContext } from '../runtime.ts';

/** Opens the configured database for one CLI command and always closes it. */
export async function withContext<T>(work: (ctx: AppContext) => Promise<T>): Promise<T> {
  const ctx = await openContext(loadConfig());
  try {
    return await work(ctx);
  } finally {
    await ctx.store.close();
  }
}
