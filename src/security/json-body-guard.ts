import type { FastifyInstance } from 'fastify';
import { Problem } from '../http/problem.ts';

/** Deepest nesting a JSON body may have; no request of the API comes near it. */
export const MAX_JSON_DEPTH = 64;

export type JsonBodyFinding = 'too_deep' | 'nul' | null;

/**
 * One pass over the raw text, no parse: does it nest arrays/objects deeper than `maxDepth`
 * (brackets inside strings do not count), or hold a NUL character (`\u0000`), which no text
 * column can store (PostgreSQL refuses it)?
 */
export function inspectJsonText(text: string, maxDepth: number): JsonBodyFinding {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) {
        if (text.startsWith('u0000', i + 1)) return 'nul';
        i++; // skip the escaped character
      } else if (c === 34) inString = false;
      else if (c === 0) return 'nul';
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return 'too_deep';
    } else if (c === 125 || c === 93) depth--;
  }
  return null;
}

const refusals: Record<Exclude<JsonBodyFinding, null>, Problem> = {
  too_deep: new Problem(400, `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, [{ field: 'body', message: `nests deeper than ${MAX_JSON_DEPTH} levels` }]),
  nul: new Problem(400, 'The request body holds a NUL character (\\u0000), which no field accepts.', [{ field: 'body', message: 'holds a NUL character (\\u0000)' }]),
};

/**
 * Replaces Fastify's JSON body parser with the same parser (prototype-poisoning checks included)
 * behind `inspectJsonText`, so a body nested 10,000 levels deep, or a NUL byte bound for a text
 * column, is a 400 naming the body before validation, storage or logging could fail on it.
 */
export function guardJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const finding = inspectJsonText(body as string, MAX_JSON_DEPTH);
    if (finding) {
      done(refusals[finding], undefined);
      return;
    }
    parse(request, body as string, (error, value) => {
      if (error) done(unreadableBody(error), undefined);
      else done(null, value);
    });
  });
}

/**
 * A body the parser refused, as a 400 naming the body like every other refusal. Fastify's parser
 * says the same for broken JSON and for a prototype-poisoning key, so the message names both.
 */
function unreadableBody(error: Error): Problem {
  const message = /empty/i.test(error.message) ? 'is empty; send a JSON document' : 'is not valid JSON, or holds a "__proto__" or "constructor.prototype" key';
  return new Problem(400, `The request body ${message}.`, [{ field: 'body', message }]);
}

/** An onRequest hook refusing addresses with a NUL character (`%00`): no path parameter or query value may hold one. */
export async function refuseNulInUrl(request: { url: string }): Promise<void> {
  if (request.url.includes('%00') || request.url.includes('\u0000')) {
    throw new Problem(400, 'The address holds a NUL character (%00), which no parameter accepts.', [{ field: 'url', message: 'holds a NUL character (%00)' }]);
  }
}
