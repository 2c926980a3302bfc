import type { Actor } from '../shared/operation-context.js';

/** Past-tense event types (style rule 18). Each state change writes exactly one, in its transaction. */
export type AuditEventType =
  | 'project.created'
  | 'organization.created'
  | 'organization.updated'
  | 'organization.deleted'
  | 'organization.external_id_deleted'
  | 'member.created'
  | 'member.updated'
  | 'member.deleted'
  | 'member.reactivated'
  | 'member.external_id_deleted';

export interface AuditEvent {
  readonly eventId: string;
  readonly type: AuditEventType;
  readonly occurredAt: string;
  readonly requestId: string;
  readonly actor: Actor;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  /** What changed, by wire field name; never secrets. */
  readonly details: Readonly<Record<string, unknown>>;
}
