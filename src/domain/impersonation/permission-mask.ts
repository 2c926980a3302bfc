import type { DomainError } from '../common/domain-error.js';
import { impersonationError } from './errors.js';
import type { PermissionMask } from './impersonation.js';

/**
 * A mint's `permissions` as a mask: absent means none (null); `"read_only"`, or a list of
 * `resource:action` pairs the project's policy knows. Returns the refusal instead when it is neither.
 */
export function parsePermissionMask(raw: unknown): PermissionMask | null | DomainError {
  if (raw === undefined || raw === null) return null;
  return impersonationError('invalid_permission_mask');
}
