import type { FastifyRequest } from 'fastify';
import type { OperationContext } from '../domain/common/operation-context.js';

/** One value of a query or form parameter (the first, when repeated), or undefined. */
export function single(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/**
 * A browser (or an identity provider through one) calls without credentials: the system acts on
 * its behalf, with its address and user agent recorded.
 */
export function browserContext(request: FastifyRequest): OperationContext {
  return { requestId: request.id, actor: { type: 'system' }, client: { ipAddress: request.ip, userAgent: request.headers['user-agent'] ?? '' } };
}
