/**
 * Remembers which methods each route pattern accepts, so a request for a known path with the
 * wrong method gets 405 `method_not_allowed` instead of 404.
 */
export class MethodTable {
  readonly #routes: { pattern: RegExp; method: string }[] = [];

  add(method: string | string[], url: string): void {
    const pattern = new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`);
    for (const entry of Array.isArray(method) ? method : [method]) this.#routes.push({ pattern, method: entry });
  }

  hasOtherMethod(path: string, method: string): boolean {
    return this.#routes.some((route) => route.method !== method && route.method !== 'HEAD' && route.pattern.test(path));
  }
}
