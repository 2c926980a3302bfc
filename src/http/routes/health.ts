import type { FastifyInstance } from 'fastify';
import { ok } from '../respond.js';

/** `/healthz`: the process answers. `/readyz`: the database answers too. Neither needs credentials. */
export function registerHealthRoutes(app: FastifyInstance, dependencies: { ping: () => Promise<void> }): void {
  app.get('/healthz', { config: { access: 'public' } }, async (request) => ok(request, { status: 'ok' }));

  app.get('/readyz', { config: { access: 'public' } }, async (request, reply) => {
    try {
      await dependencies.ping();
      return ok(request, { status: 'ready', database: 'reachable' });
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable');
      return reply.code(503).send({ request_id: request.id, status: 'unavailable', database: 'unreachable', status_code: 503 });
    }
  });
}
