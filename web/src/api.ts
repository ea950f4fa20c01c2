/** The one way the console talks to the API: JSON in and out, the session cookie, and the
 * X-CSRF-Token header on every change; errors arrive as problem+json and become ApiError. */
export interface FieldError {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly errors: FieldError[] = [],
    /** the whole problem+json answer, with its extension members (e.g. `forms`, `fieldsToRequire`) */
    readonly problem: Record<string, unknown> = {},
  ) {
    super(detail);
  }
  /** the message for one field (e.g. "email" or "attributes.level"), if the server named it */
  field(name: string): string | undefined {
    return this.errors.find((e) => e.field === name || e.field === `body.${name}` || e.field === `querystring.${name}`)?.message;
  }
}

let csrfToken: string | null = null;
/** Platform staff (support, CSM) act in one tenant at a time, named in X-Lethe-Institution; kept for this tab only. */
const INSTITUTION_KEY = 'lethe.actingInstitution';
let actingInstitution: string | null = sessionStorage.getItem(INSTITUTION_KEY);
let onUnauthorized: () => void = () => {};

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}
export function setActingInstitution(id: string | null): void {
  actingInstitution = id;
  if (id) sessionStorage.setItem(INSTITUTION_KEY, id);
  else sessionStorage.removeItem(INSTITUTION_KEY);
}
export function getActingInstitution(): string | null {
  return actingInstitution;
}
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

export type Query = Record<string, string | number | boolean | undefined | null | Array<string>>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else params.set(key, String(value));
  }
  const s = params.toString();
  return s ? `${path}?${s}` : path;
}

export async function request<T>(method: string, path: string, body?: unknown, init: { query?: Query; raw?: BodyInit; contentType?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (actingInstitution) headers['x-lethe-institution'] = actingInstitution;
  let payload: BodyInit | undefined;
  if (init.raw !== undefined) {
    payload = init.raw;
    if (init.contentType) headers['content-type'] = init.contentType;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(withQuery(path, init.query), { method, headers, body: payload, credentials: 'same-origin' });
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const problem = typeof data === 'object' && data ? (data as { detail?: string; title?: string; errors?: FieldError[] }) : {};
    const error = new ApiError(response.status, problem.detail ?? problem.title ?? `The server answered ${response.status}.`, problem.errors ?? [], problem as Record<string, unknown>);
    if (response.status === 401 && path !== '/api/session') onUnauthorized();
    throw error;
  }
  return data as T;
}

export const api = {
  get: <T>(path: string, query?: Query) => request<T>('GET', path, undefined, { query }),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, body ?? {}),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, body ?? {}),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, body ?? {}),
  del: <T>(path: string) => request<T>('DELETE', path),
};

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}
