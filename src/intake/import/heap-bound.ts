import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * An import allocates tens of megabytes per chunk that live just long enough (across the chunk's
 * awaits) to be promoted to V8's old generation, which V8 then lets grow to several times the live
 * heap before collecting it: a million-row import would peak far above its real needs. Collecting
 * when the used heap passes a bound keeps the process's memory flat whatever the file's size, for
 * a few milliseconds per collection. gc() is reached the documented way for a running process
 * (the flag, then a fresh context); where that is not possible the bound is simply not enforced.
 */
let collect: (() => void) | null | undefined;

function collector(): (() => void) | null {
  if (collect !== undefined) return collect;
  try {
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  } catch {
    collect = null;
  }
  return collect;
}

export function boundHeap(maxUsedBytes = 96 * 1024 * 1024): void {
  if (v8.getHeapStatistics().used_heap_size > maxUsedBytes) collector()?.();
}
