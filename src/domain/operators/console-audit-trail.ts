import type { AuditEvent } from '../audit/audit-event.js';
import type { AuditStore } from '../audit/audit-store.js';
import { sharedError } from '../common/errors.js';
import { organizationError } from '../organizations/errors.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';

/** The console's other trails, beside impersonation (ImpersonationAdminService.auditTrail). */
export type ConsoleTrail = 'member' | 'operator';

export const CONSOLE_TRAILS: readonly ConsoleTrail[] = ['member', 'operator'];

export interface ConsoleTrailQuery {
  readonly trail: ConsoleTrail;
  /** Organization id, slug or external id (member events only). */
  readonly organization?: string | undefined;
  /** Member id (member events only). */
  readonly member?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const EVENT_ID = /^audit-event-(test|live)-[0-9a-f-]{36}$/;
const RBAC_PAGE = 100;

/**
 * Reading the audit trail of members (`member.*`: sign-ins, changes, factors reset by operators)
 * and of operators (`operator.*`: sign-ins, lockouts, resets) in the console, in the order the
 * events were written. Events never hold secrets, so every operator may read them.
 */
export class ConsoleAuditTrail {
  readonly #store: { audit: AuditStore; organizations: OrganizationsStore };

  constructor(dependencies: { store: { audit: AuditStore; organizations: OrganizationsStore } }) {
    this.#store = dependencies.store;
  }

  async search(query: ConsoleTrailQuery): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
    for (const bound of [query.since, query.until]) {
      if (bound !== undefined && !RFC3339.test(bound)) throw sharedError('bad_request', 'since and until must be RFC 3339 UTC timestamps, e.g. 2026-01-01T00:00:00Z.');
    }
    const isMemberTrail = query.trail === 'member';
    const organizationId = isMemberTrail && query.organization !== undefined ? await this.#organizationId(query.organization) : undefined;
    const events = await this.#store.audit.searchEvents(
      {
        typePrefix: `${query.trail}.`,
        organizationId,
        memberId: isMemberTrail ? query.member : undefined,
        since: query.since,
        until: query.until,
      },
      { limit: query.limit + 1, afterEventId: decodeCursor(query.cursor) },
    );
    const page = events.slice(0, query.limit);
    const last = page[page.length - 1];
    return { events: page, nextCursor: events.length > query.limit && last !== undefined ? Buffer.from(last.eventId).toString('base64url') : null };
  }

  /**
   * The audit events (`rbac.policy_updated`) of these project RBAC policy versions, by version,
   * read from `since` (RFC 3339, the oldest version's time) on: the console's RBAC history shows
   * each version's changes from them. A version without one is left out.
   */
  async rbacPolicyChanges(versions: readonly number[], since: string): Promise<Map<number, AuditEvent>> {
    const wanted = new Set(versions);
    const found = new Map<number, AuditEvent>();
    let afterEventId: string | null = null;
    while (found.size < wanted.size) {
      const page = await this.#store.audit.searchEvents({ typePrefix: 'rbac.policy_updated', since }, { limit: RBAC_PAGE, afterEventId });
      for (const event of page) {
        const version = event.details.version;
        if (event.type === 'rbac.policy_updated' && typeof version === 'number' && wanted.has(version)) found.set(version, event);
      }
      const last = page[page.length - 1];
      if (page.length < RBAC_PAGE || last === undefined) break;
      afterEventId = last.eventId;
    }
    return found;
  }

  async #organizationId(reference: string): Promise<string> {
    const organization = await this.#store.organizations.findOrganization(reference);
    if (organization === undefined) throw organizationError('organization_not_found');
    return organization.organizationId;
  }
}

function decodeCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const eventId = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!EVENT_ID.test(eventId)) throw sharedError('invalid_cursor');
  return eventId;
}
