import type { FastifyInstance } from 'fastify';
import type { JWK } from 'jose';
import { sharedError } from '../../domain/common/errors.js';
import { ok } from '../respond.js';

/**
 * `GET /v1/b2b/sessions/jwks/{project_id}`. Public: jose fetches it without the
 * Authorization header, and it must answer exactly 200. Only public key members leave the server.
 */
export function registerJwksRoute(app: FastifyInstance, dependencies: { projectId: string; publicJwks: () => Promise<JWK[]> }): void {
  app.get<{ Params: { project_id: string } }>(
    '/v1/b2b/sessions/jwks/:project_id',
    { config: { access: 'public' }, schema: { params: { type: 'object', properties: { project_id: { type: 'string', maxLength: 128 } }, required: ['project_id'] } } },
    async (request) => {
      if (request.params.project_id !== dependencies.projectId) throw sharedError('route_not_found', 'No JWKS is published for this project id.');
      const keys = (await dependencies.publicJwks()).map((jwk) => ({
        kty: jwk.kty,
        use: 'sig',
        key_ops: ['verify'],
        alg: 'RS256',
        kid: jwk.kid,
        n: jwk.n,
        e: jwk.e,
        // No X.509 certificate is issued for these keys; the members the OpenAPI requires are present but empty.
        x5c: [] as string[],
        x5tS256: '',
      }));
      return ok(request, { keys });
    },
  );
}
