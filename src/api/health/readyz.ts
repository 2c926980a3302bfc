import { extensionOperation } from '../operation.js';

/**
 * `/readyz` (ours, not Stytch's): the database answers too. Needs no credentials. An unreachable
 * database is a 503 in the same shape as the ready answer rather than Stytch's error envelope, so
 * probes and people read one kind of body.
 */
export default extensionOperation({
  name: 'health.readyz',
  method: 'GET',
  url: '/readyz',
  config: { access: 'public' },
  async handle({ request, reply }, { ping }) {
    try {
      await ping();
      return { status: 'ready', database: 'reachable' };
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable');
      return reply.code(503).send({ request_id: request.id, status: 'unavailable', database: 'unreachable', status_code: 503 });
    }
  },
});
