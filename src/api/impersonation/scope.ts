import type { ImpersonationScope } from '../../domain/impersonation/impersonation-admin-service.js';
import { str } from '../json-schema.js';

/** Who an impersonation call is about, as the listing, revoking and audit operations take it. */
export interface ScopeWire {
  readonly organization_id?: string;
  readonly member_id?: string;
  readonly impersonator_id?: string;
}

/** The JSON schema of ScopeWire's fields, spread into each operation's own schema. */
export const scopeProperties = { organization_id: str, member_id: str, impersonator_id: str } satisfies Record<keyof ScopeWire, unknown>;

/** References as the caller gave them (an id, slug, external id or email address); the service resolves them. */
export function scopeOf(wire: ScopeWire): Pick<ImpersonationScope, 'organization' | 'member' | 'impersonatorId'> {
  return { organization: wire.organization_id, member: wire.member_id, impersonatorId: wire.impersonator_id };
}
