/**
 * What a `read_only` impersonated session may do: the one definition of a reading action
 * (docs/impersonation.md, "Restricted impersonation"). An action reads when it is one of
 * READING_ACTIONS or starts with one of READING_PREFIXES, whatever the resource: Stytch's
 * (`stytch.member` `search`, `get.connected-apps`; `stytch.sso` `get`), Understudy's (`read`,
 * `read-audit`) and a project's own, which follow the same naming to be read-only. `*` is no
 * reading action: a call that needs every action of a resource is never read-only.
 */
export const READING_ACTIONS: readonly string[] = ['search', 'get', 'read', 'list', 'view', 'export', 'read-audit'];
export const READING_PREFIXES: readonly string[] = ['get.', 'read.', 'list.'];

export function isReadingAction(action: string): boolean {
  return READING_ACTIONS.includes(action) || READING_PREFIXES.some((prefix) => action.startsWith(prefix));
}
