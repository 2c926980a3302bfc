import type { RouteOptions } from 'fastify';
import type { RouteAccess } from './server.js';

/** One registered route: its method, its path pattern and who may call it. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
  readonly access: RouteAccess;
}

/**
 * Every route the server registered. Answers 405 `method_not_allowed` instead of 404 for a known
 * path with the wrong method, and lists the routes with their access so tests can attack each one.
 */
export class RouteTable {
  readonly #routes: { pattern: RegExp; method: string; options: Pick<RouteOptions, 'url' | 'config'> }[] = [];

  add(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): void {
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`);
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) this.#routes.push({ pattern, method, options: route });
  }

  hasOtherMethod(path: string, method: string): boolean {
    return this.#routes.some((route) => route.method !== method && route.method !== 'HEAD' && route.pattern.test(path));
  }

  /** Read when asked: a scope's own onRoute hook may set `config.access` after this table saw the route. */
  routes(): RegisteredRoute[] {
    return this.#routes.map(({ method, options }) => ({ method, url: options.url, access: options.config?.access ?? 'project' }));
  }
}
