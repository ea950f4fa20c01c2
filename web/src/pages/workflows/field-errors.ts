import { ApiError } from '../../api.ts';

/**
 * The server names each problem by its JSON path (`steps[2].wait.days`, `trigger.cron`), so each
 * control shows the messages for its own path; whatever no control shows is listed on its step.
 */
export interface PathErrors {
  /** messages for exactly this path */
  at(path: string): string | undefined;
  /** messages under `prefix` that are none of `shown` (nor inside one of them, e.g. `to[1]` of `to`) */
  rest(prefix: string, shown: string[]): { field: string; message: string }[];
}

const strip = (field: string) => field.replace(/^body\./, '');

export function pathErrors(error: unknown): PathErrors {
  const errors = error instanceof ApiError ? error.errors.map((e) => ({ field: strip(e.field), message: e.message })) : [];
  return {
    at(path) {
      const found = errors.filter((e) => e.field === path).map((e) => e.message);
      return found.length ? found.join('; ') : undefined;
    },
    rest(prefix, shown) {
      return errors.filter((e) => {
        if (prefix && e.field !== prefix && !e.field.startsWith(`${prefix}.`) && !e.field.startsWith(`${prefix}[`)) return false;
        return !shown.some((s) => e.field === s || e.field.startsWith(`${s}[`) || e.field.startsWith(`${s}.`));
      });
    },
  };
}

/** Messages for a list control whose items are checked one by one (`to[0]`, `to[1]`…). */
export function itemErrors(errors: PathErrors, path: string, items: string[]): string | undefined {
  const found = [
    errors.at(path),
    ...items.map((item, i) => {
      const m = errors.at(`${path}[${i}]`);
      return m ? `${item || `item ${i + 1}`} ${m}` : undefined;
    }),
  ].filter(Boolean);
  return found.length ? found.join('; ') : undefined;
}
