import type { FastifyRequest } from 'fastify';
import type { OperationContext } from '../domain/common/operation-context.js';

/** Every success body carries `request_id` and `status_code`, as Stytch's do, alongside the resource. */
export function ok<T extends object>(request: FastifyRequest, body: T): { request_id: string } & T & { status_code: 200 } {
  return { request_id: request.id, ...body, status_code: 200 };
}

/** The operation context of a request authenticated with the project's secret. */
export function projectContext(request: FastifyRequest, projectId: string): OperationContext {
  return {
    requestId: request.id,
    actor: { type: 'project', projectId },
    client: { ipAddress: request.ip, userAgent: request.headers['user-agent'] ?? '' },
  };
}
