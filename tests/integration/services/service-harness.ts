import { afterAll, beforeEach, expect } from 'vitest';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { ProjectImpersonationPolicy } from '../../../src/domain/impersonation/impersonation-policy.js';
import type { MembersService } from '../../../src/domain/members/members-service.js';
import type { OrganizationsService } from '../../../src/domain/organizations/organizations-service.js';
import { isDomainError } from '../../../src/domain/common/domain-error.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { SequentialRandom } from '../../../src/platform/random.js';
import { createServices, type Services } from '../../../src/services.js';
import type { Store } from '../../../src/storage/store.js';
import type { StoreFactory } from '../../support/stores.js';
import { freshStoreSource } from '../store-contract/contract-support.js';

export interface ServiceHarness {
  readonly store: Store;
  readonly clock: ManualClock;
  readonly organizations: OrganizationsService;
  readonly members: MembersService;
  readonly services: Services;
}

export const CONTEXT: OperationContext = {
  requestId: 'request-id-test-00000000-0000-4000-8000-0000000000aa',
  actor: { type: 'project', projectId: 'project-test-00000000-0000-4000-8000-0000000000bb' },
};

export const START = '2026-03-01T12:00:00Z';

/**
 * Services wired as src/app.ts wires them, over a fresh store per test, with a manual clock and
 * sequential ids. `impersonation` is the project's impersonation setting (allowed, no URL, when omitted).
 */
export function useServices(factory: StoreFactory, options: { impersonation?: ProjectImpersonationPolicy } = {}): () => ServiceHarness {
  const source = freshStoreSource(factory);
  let current: ServiceHarness | undefined;
  beforeEach(async () => {
    const store = await source.next();
    const clock = new ManualClock(START);
    const services = createServices({
      store,
      clock,
      random: new SequentialRandom(),
      projectId: 'project-test-00000000-0000-4000-8000-0000000000bb',
      masterKey: Buffer.alloc(32, 7),
      ...(options.impersonation !== undefined && { impersonation: options.impersonation }),
    });
    current = { store, clock, organizations: services.organizations, members: services.members, services };
  });
  afterAll(async () => {
    await source.finish();
    current = undefined;
  });
  return () => {
    if (current === undefined) throw new Error('services are built in beforeEach; call the getter inside a test');
    return current;
  };
}

/** Every audit event, oldest first. */
export async function auditTrail(store: Store): Promise<AuditEvent[]> {
  return (await store.audit.listEvents({ organizationId: null, limit: 1000 })).reverse();
}

/** Awaits `call`, expecting a DomainError, and returns its code. */
export async function domainErrorCode(call: Promise<unknown>): Promise<string> {
  const outcome = await call.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  expect(isDomainError(outcome), `expected a DomainError, got ${String(outcome)}`).toBe(true);
  return (outcome as { code: string }).code;
}

/** How many organizations and members exist, and how many audit events: what a failed call must leave unchanged. */
export async function footprint(store: Store): Promise<{ organizations: number; members: number; events: number }> {
  const everything = { operator: 'AND' as const, filters: [] };
  const { rows, total } = await store.organizations.searchOrganizations(everything, { limit: 1000, after: null });
  const members = await store.members.searchMembers(
    rows.map((row) => row.organizationId),
    everything,
    { limit: 1000, after: null },
  );
  return { organizations: total, members: members.total, events: (await auditTrail(store)).length };
}
