import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import type { RateLimitName } from '../domain/rate-limits/rate-limit.js';
import type { RateLimiter } from '../domain/rate-limits/rate-limiter.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A per-project limit this route counts against (docs/compatibility.md, "Rate limits"). */
    rateLimitPerProject?: Extract<RateLimitName, 'mints' | 'searches'>;
  }
}

/**
 * Gives every route that declares `config.rateLimitPerProject` a preHandler counting its calls
 * against the project's limit for that endpoint. A preHandler runs after project authentication and body
 * validation, so neither an unauthenticated caller nor a malformed body uses up the project's
 * budget; other routes get no hook at all. Register it before the routes.
 */
export function registerRateLimitHook(app: FastifyInstance, dependencies: { rateLimits: RateLimiter; projectId: string }): void {
  const { rateLimits, projectId } = dependencies;
  app.addHook('onRoute', (route) => {
    const name = route.config?.rateLimitPerProject;
    if (name === undefined || !rateLimits.isActive(name)) return;
    // Each endpoint has its own count, as Stytch documents its search limits per endpoint.
    const key = `${projectId} ${route.url}`;
    const countCall: preHandlerAsyncHookHandler = async () => rateLimits.consume(name, key);
    const existing = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...existing, countCall];
  });
}
