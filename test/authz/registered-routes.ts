import type { App } from '../../src/http/app.ts';

/**
 * Every `METHOD path` the app has registered, read from fastify's route tree (printRoutes), so
 * routes hidden from the OpenAPI document (public pages, downloads) are listed too. HEAD routes,
 * which fastify adds beside every GET, are left out.
 *
 * printRoutes draws a radix tree: each node's label is the part of the path it adds to its parent,
 * indented four columns per level, with the methods that end there in parentheses.
 */
export function registeredRoutes(app: App): string[] {
  const tree = app.printRoutes();
  const stack: string[] = [];
  const routes = new Set<string>();
  for (const line of tree.split('\n')) {
    const m = /^([\s│]*)[├└]── (.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    const node = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(m[2])!;
    stack.length = depth;
    stack.push(node[1]);
    if (!node[2]) continue;
    const path = stack.join('');
    for (const method of node[2].split(',').map((s) => s.trim())) {
      if (method !== 'HEAD') routes.add(`${method} ${path}`);
    }
  }
  return [...routes].sort();
}

/** The OpenAPI document's operations as `METHOD path` in fastify syntax (`{id}` → `:id`). */
export function openApiRoutes(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  const out: string[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops)) {
      if (method === 'head') continue;
      out.push(`${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`);
    }
  }
  return out.sort();
}
