import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditChainVerification } from '../../domain/audit/audit-chain-verifier.js';
import { RateLimitedError } from '../../domain/rate-limits/errors.js';
import { checkCsrf, type ConsoleDependencies, csrfFor, requireOperator } from '../console-context.js';
import { auditChainPage } from '../views/audit-chain-views.js';
import { page } from '../views/layout.js';

/**
 * The tamper-evident audit chains: their heads, and verifying them on demand. Every operator role
 * may look and verify; verifying reads and changes nothing, so its outcome is shown in the answer to
 * the post rather than stored. One verification runs at a time in the process, the API's included:
 * another meanwhile gets the 429 error page with Retry-After.
 */
export function registerAuditChainPages(scope: FastifyInstance, dependencies: ConsoleDependencies): void {
  const { auditChain } = dependencies.services;

  async function render(request: FastifyRequest, reply: FastifyReply, verification?: AuditChainVerification): Promise<FastifyReply> {
    const identity = requireOperator(request, reply);
    if (identity === undefined) return reply;
    const { heads, digest } = await auditChain.heads();
    const body = auditChainPage({ heads, digest, csrf: csrfFor(request), verification });
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Audit chain', identity, csrf: csrfFor(request), current: '/console/audit-chain', body }).value);
  }

  scope.get('/audit-chain', async (request, reply) => render(request, reply));

  scope.post('/audit-chain/verify', async (request, reply) => {
    if (requireOperator(request, reply) === undefined) return reply;
    checkCsrf(request);
    let verification: AuditChainVerification;
    try {
      verification = await auditChain.verify();
    } catch (error) {
      if (error instanceof RateLimitedError) void reply.header('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
    return render(request, reply, verification);
  });
}
