import type { FastifyRequest } from 'fastify';
import { requireAuth } from '../access/auth.ts';
import type { Caller } from './contacts.ts';
import { viewerOf } from './visibility.ts';

/** The contact service's view of the signed-in user or API token behind a request. */
export function callerOf(request: FastifyRequest): Caller {
  const auth = requireAuth(request);
  return {
    viewer: viewerOf(auth.user.id, auth.permissions),
    actor: auth.actor,
    organizationId: auth.user.organizationId,
    viaToken: auth.via === 'token',
  };
}
