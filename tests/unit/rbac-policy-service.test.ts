import { describe, expect, it } from 'vitest';
import { AuditRecorder } from '../../src/domain/audit/audit-recorder.js';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import type { AuditStore } from '../../src/domain/audit/audit-store.js';
import { BUILT_IN_RESOURCES, DEFAULT_POLICY, STYTCH_RESOURCES, type Policy } from '../../src/domain/rbac/policy.js';
import { policyDocument } from '../../src/domain/rbac/policy-rules.js';
import { RbacPolicyService } from '../../src/domain/rbac/policy-service.js';
import type { RbacStore, StoredPolicyVersion } from '../../src/domain/rbac/rbac-store.js';
import { ManualClock } from '../../src/platform/clock.js';
import { IdGenerator } from '../../src/platform/ids.js';
import { SequentialRandom } from '../../src/platform/random.js';
import { anOrganization } from '../support/builders/organization-builder.js';

/**
 * The policy service's per-process copy of the policy: it never goes back to a version older than
 * one it has seen (a slow read that started before a change committed), and a transaction never
 * decides on it (it reads the policy itself, after the shared policy lock).
 */
const CLI = { requestId: 'request-id-test-00000000-0000-4000-8000-0000000000f1', actor: { type: 'cli' as const } };

function withRole(roleId: string): Policy {
  return { ...DEFAULT_POLICY, roles: [...DEFAULT_POLICY.roles, { roleId, description: roleId, permissions: [{ resourceId: 'stytch.member', actions: ['search'] }] }] };
}

function stored(version: number, policy: Policy): StoredPolicyVersion {
  return { version, policy, source: 'cli', createdAt: '2026-01-01T00:00:00Z' };
}

/** Something a test resolves when it chooses. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/**
 * An RBAC store in memory that logs what is asked of it. `nextRead`, when set, is what the next
 * latestPolicy() answers (once), so a test can hold a read back while others run.
 */
class FakeRbacStore implements RbacStore {
  versions: StoredPolicyVersion[] = [];
  readonly log: string[] = [];
  nextRead: Promise<StoredPolicyVersion | undefined> | undefined;

  async lockPolicy(mode: 'exclusive' | 'shared'): Promise<void> {
    this.log.push(`lock ${mode}`);
  }
  async latestPolicy(): Promise<StoredPolicyVersion | undefined> {
    this.log.push('read');
    const held = this.nextRead;
    this.nextRead = undefined;
    return held ?? this.versions.at(-1);
  }
  async appendPolicy(version: StoredPolicyVersion): Promise<boolean> {
    if (this.versions.some((existing) => existing.version === version.version)) return false;
    this.versions.push(version);
    return true;
  }
  async listPolicyVersions(limit: number): Promise<StoredPolicyVersion[]> {
    return [...this.versions].reverse().slice(0, limit);
  }
  async roleUsage(): Promise<{ directAssignments: number; implicitAssignmentOrganizations: string[] }> {
    return { directAssignments: 0, implicitAssignmentOrganizations: [] };
  }
  async customRolesUsing(): Promise<{ organizationId: string; roleId: string }[]> {
    return [];
  }
  async customRolesNamed(): Promise<string[]> {
    return [];
  }
}

class FakeAuditStore implements AuditStore {
  readonly events: AuditEvent[] = [];
  async appendEvent(event: AuditEvent): Promise<void> {
    this.events.push(event);
  }
  async listEvents(): Promise<AuditEvent[]> {
    return [...this.events].reverse();
  }
  async searchEvents(): Promise<AuditEvent[]> {
    return [...this.events];
  }
}

function serviceOver(rbac: FakeRbacStore) {
  const audit = new FakeAuditStore();
  const ports = { rbac, audit };
  const store = { ...ports, transaction: <T>(work: (tx: typeof ports) => Promise<T>) => work(ports) };
  const clock = new ManualClock();
  const service = new RbacPolicyService({ store, clock, audit: new AuditRecorder({ ids: new IdGenerator(new SequentialRandom(), 'test'), clock }) });
  return { service, clock, ports };
}

describe('RbacPolicyService: its copy of the policy', () => {
  it('never goes back to an older version: a read that started before an apply committed does not replace what the apply wrote', async () => {
    const rbac = new FakeRbacStore();
    rbac.versions = [stored(1, withRole('first'))];
    const { service } = serviceOver(rbac);
    const slow = deferred<StoredPolicyVersion | undefined>();
    rbac.nextRead = slow.promise;
    // A read through the pool (an authorization decision), held back by the database...
    const reading = service.current();
    // ...while a change is applied and committed.
    const applied = await service.apply(CLI, policyDocument(withRole('second')), { source: 'cli' });
    expect(applied.version.version).toBe(2);
    // The held-back read answers what was in force when it started.
    slow.resolve(stored(1, withRole('first')));
    expect((await reading).version).toBe(1);
    // The copy is still the newer version.
    const current = await service.current();
    expect(current.version).toBe(2);
    expect(current.policy.roles.map((role) => role.roleId)).toContain('second');
  });

  it('inside a transaction reads the policy after the shared lock, even while its copy is fresh', async () => {
    const rbac = new FakeRbacStore();
    rbac.versions = [stored(1, withRole('temp'))];
    const { service, ports } = serviceOver(rbac);
    expect((await service.current()).version).toBe(1);
    // Another process removes the role: this one's copy is still fresh (well under 5 seconds old).
    rbac.versions.push(stored(2, DEFAULT_POLICY));
    expect((await service.current()).version).toBe(1);
    rbac.log.length = 0;
    const inTransaction = await service.current(ports);
    expect(inTransaction.version).toBe(2);
    expect(rbac.log).toEqual(['lock shared', 'read']);
    await expect(service.checkAssignable(['temp'], anOrganization(), ports)).rejects.toMatchObject({ code: 'invalid_rbac_role_id' });
  });

  it('serves Stytch’s and Understudy’s resources as this release defines them, whatever a stored version copied', async () => {
    const rbac = new FakeRbacStore();
    const trimmed = DEFAULT_POLICY.resources.map((resource) =>
      resource.resourceId === 'stytch.member' ? { ...resource, actions: resource.actions.filter((action) => action !== 'search') } : resource,
    );
    rbac.versions = [stored(1, { ...withRole('kept'), resources: [...trimmed, { resourceId: 'documents', description: 'Docs', actions: ['read'] }] })];
    const { service } = serviceOver(rbac);
    const { policy } = await service.current();
    expect(policy.resources).toEqual([...BUILT_IN_RESOURCES, { resourceId: 'documents', description: 'Docs', actions: ['read'] }]);
    expect(policy.roles.map((role) => role.roleId)).toContain('kept');
  });

  it('serves Understudy’s resources for a version stored before they existed, its stytch_admin keeping the permissions it was stored with', async () => {
    const rbac = new FakeRbacStore();
    const olderAdmin = { roleId: 'stytch_admin', description: 'Admin', permissions: [{ resourceId: 'stytch.member', actions: ['*'] }] };
    const older: Policy = { resources: [...STYTCH_RESOURCES], roles: [DEFAULT_POLICY.roles[0] as Policy['roles'][number], olderAdmin], scopes: [] };
    rbac.versions = [stored(1, older)];
    const { service } = serviceOver(rbac);
    const { policy } = await service.current();
    expect(policy.resources.map((resource) => resource.resourceId)).toEqual(BUILT_IN_RESOURCES.map((resource) => resource.resourceId));
    expect(policy.roles.find((role) => role.roleId === 'stytch_admin')).toEqual(olderAdmin);
  });
});
