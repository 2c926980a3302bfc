import type { DomainError } from '../common/domain-error.js';
import type { Policy } from '../rbac/policy.js';
import { impersonationError } from './errors.js';
import type { MaskedAction, PermissionMask } from './impersonation.js';
import { isReadingAction } from './read-actions.js';

/** The wire word for a read-only mask, in a mint's `permissions` and the JWT's `act_permissions`. */
export const READ_ONLY = 'read_only';
export const MAX_MASK_ACTIONS = 100;

/** What a mask is on the wire: `"read_only"` or the list of `resource:action` pairs. */
export type WirePermissionMask = typeof READ_ONLY | readonly string[];

/**
 * A mint's `permissions` as a mask: absent (or null) means none; `"read_only"`; or 1 to 100 distinct
 * `resource:action` pairs whose resource is in the project's policy and has that action (`*` is no
 * action: a mask names what it allows one by one). Returns the refusal instead when it is neither.
 */
export function parsePermissionMask(raw: unknown, policy: Pick<Policy, 'resources'>): PermissionMask | null | DomainError {
  if (raw === undefined || raw === null) return null;
  if (raw === READ_ONLY) return { readOnly: true };
  if (typeof raw === 'string') return invalid(`permissions must be "read_only" or a list of "resource:action" pairs, not the text ${quoted(raw)}.`);
  if (!Array.isArray(raw)) return invalid();
  if (raw.length === 0 || raw.length > MAX_MASK_ACTIONS) return invalid(`permissions must list 1 to ${MAX_MASK_ACTIONS} "resource:action" pairs (it lists ${raw.length}).`);
  const seen = new Set<string>();
  const actions: MaskedAction[] = [];
  for (const [index, entry] of raw.entries()) {
    if (typeof entry !== 'string') return invalid(`permissions[${index}] must be a "resource:action" text.`);
    if (seen.has(entry)) return invalid(`permissions lists ${quoted(entry)} twice.`);
    seen.add(entry);
    const pairs = splitPair(entry, policy);
    const [pair] = pairs;
    if (pair === undefined) return invalid(`permissions[${index}] ${quoted(entry)} names no resource and action of the project's RBAC policy.`);
    // Resource ids and actions may both hold ":": an entry must still name one pair only.
    if (pairs.length > 1) return invalid(`permissions[${index}] ${quoted(entry)} can be read as more than one resource and action of the project's RBAC policy.`);
    actions.push(pair);
  }
  // Kept as the pairs read now: compared as pairs later, whatever resources a later policy adds.
  return { actions };
}

/** Whether the mask lets the impersonated session perform `action` on `resourceId` (its roles must grant it too). */
export function maskAllows(mask: PermissionMask | null, resourceId: string, action: string): boolean {
  if (mask === null) return true;
  if ('readOnly' in mask) return isReadingAction(action);
  return mask.actions.some((allowed) => allowed.resourceId === resourceId && allowed.action === action);
}

/** The restriction a mask puts on authorization decisions (authorize, authorizeMemberCall); undefined for none. */
export function maskRestriction(mask: PermissionMask | null): ((resourceId: string, action: string) => boolean) | undefined {
  return mask === null ? undefined : (resourceId, action) => maskAllows(mask, resourceId, action);
}

/** The mask as a mint takes it and the JWT's `act_permissions` carries it: `"read_only"` or the `resource:action` texts. */
export function maskToWire(mask: PermissionMask): WirePermissionMask {
  return 'readOnly' in mask ? READ_ONLY : mask.actions.map(maskedActionText);
}

export function maskedActionText(allowed: MaskedAction): string {
  return `${allowed.resourceId}:${allowed.action}`;
}

/** Every way of reading `entry` as `resource:action` that the policy knows. */
function splitPair(entry: string, policy: Pick<Policy, 'resources'>): MaskedAction[] {
  const pairs: MaskedAction[] = [];
  for (let at = entry.indexOf(':'); at > 0; at = entry.indexOf(':', at + 1)) {
    const resourceId = entry.slice(0, at);
    const action = entry.slice(at + 1);
    if (policy.resources.some((resource) => resource.resourceId === resourceId && resource.actions.includes(action))) pairs.push({ resourceId, action });
  }
  return pairs;
}

function invalid(message?: string): DomainError {
  return impersonationError('invalid_permission_mask', message);
}

/** A given text as the message shows it: JSON-quoted (control characters escaped) and bounded. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 140 ? `${text.slice(0, 140)}…` : text);
}
