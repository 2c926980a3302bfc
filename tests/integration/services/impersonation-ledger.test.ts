import { describe, expect, it } from 'vitest';
import type { StoredSigningKey } from '../../../src/crypto/keys/signing-keys-store.js';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { AuditTrailQuery } from '../../../src/domain/impersonation/impersonation-admin-service.js';
import type { MintInput } from '../../../src/domain/impersonation/impersonation-service.js';
import type { Member } from '../../../src/domain/members/member.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import type { AuthenticatedSession } from '../../../src/domain/sessions/sessions-service.js';
import { emailFactor, givenFactor, issuedSession } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { CONTEXT, START, auditTrail, domainErrorCode, useServices, type ServiceHarness } from './service-harness.js';

const MINUTE = 60_000;
const REASON = 'Ticket 4711: cannot see invoices';
const CLIENT: OperationContext = { ...CONTEXT, client: { ipAddress: '198.51.100.4', userAgent: 'support-console/1.0' } };

function later(milliseconds: number): string {
  return new Date(new Date(START).getTime() + milliseconds).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Generating an RSA key takes ~100 ms, so the first test's key is reused (sealed under the harness's master key). */
let sharedSigningKey: StoredSigningKey | undefined;

interface World {
  readonly h: ServiceHarness;
  readonly ann: Member;
  readonly bob: Member;
  readonly cyd: Member;
}

/** A signing key; organization `acme` (external id `acme-ext`) with ann (external id `ann-ext`) and bob; `globex` with cyd. */
async function world(h: ServiceHarness): Promise<World> {
  if (sharedSigningKey !== undefined) await h.store.signingKeys.insertSigningKey(sharedSigningKey);
  await h.services.keystore.ensureSigningKey();
  sharedSigningKey ??= (await h.store.signingKeys.listSigningKeys())[0];
  await h.organizations.create(CONTEXT, { organizationName: 'Acme', organizationSlug: 'acme', organizationExternalId: 'acme-ext' });
  await h.organizations.create(CONTEXT, { organizationName: 'Globex', organizationSlug: 'globex' });
  const ann = (await h.members.create(CONTEXT, 'acme', { emailAddress: 'ann@acme.example', externalId: 'ann-ext' })).member;
  const bob = (await h.members.create(CONTEXT, 'acme', { emailAddress: 'bob@acme.example' })).member;
  const cyd = (await h.members.create(CONTEXT, 'globex', { emailAddress: 'cyd@globex.example' })).member;
  return { h, ann, bob, cyd };
}

async function impersonate(h: ServiceHarness, member: Member, impersonatorId = 'support-17'): Promise<AuthenticatedSession> {
  const input: MintInput = { organizationReference: member.organizationId, memberReference: member.memberId, impersonatorId, impersonatorEmailAddress: `${impersonatorId}@support.example`, reason: REASON };
  return h.services.impersonation.authenticate(CONTEXT, (await h.services.impersonation.mint(CONTEXT, input)).impersonationToken);
}

/** A session from an ordinary sign-in, for the revocations that must not touch the impersonation ledger. */
async function plainSession(h: ServiceHarness, member: Member): Promise<AuthenticatedSession> {
  const organization = await h.store.organizations.findOrganization(member.organizationId);
  if (organization === undefined) throw new Error('no organization');
  return issuedSession(await h.services.signIn.signIn(CONTEXT, givenFactor(member, organization, emailFactor(member.emailAddress, START))));
}

async function events(h: ServiceHarness, type: AuditEvent['type']): Promise<AuditEvent[]> {
  return (await auditTrail(h.store)).filter((event) => event.type === type);
}

let emailChanges = 0;
type Revocation = (w: World, session: AuthenticatedSession) => Promise<unknown>;
const SESSION_PATHS: [string, Revocation][] = [
  ['sessions.revoke by member_session_id', ({ h }, s) => h.services.sessions.revoke(CONTEXT, { memberSessionId: s.session.memberSessionId })],
  ['sessions.revoke by session_token', ({ h }, s) => h.services.sessions.revoke(CONTEXT, { sessionToken: s.sessionToken })],
  ['sessions.revoke by session_jwt', ({ h }, s) => h.services.sessions.revoke(CONTEXT, { sessionJwt: s.sessionJwt })],
  ['sessions.revoke by member_id', ({ h }, s) => h.services.sessions.revoke(CONTEXT, { memberId: s.session.memberId })],
  ['member deletion', ({ h }, s) => h.members.delete(CONTEXT, 'acme', s.session.memberId)],
  ['member email change', ({ h }, s) => h.members.update(CONTEXT, 'acme', s.session.memberId, { emailAddress: `ann.${++emailChanges}@acme.example` })],
  ['organization deletion', ({ h }) => h.organizations.delete(CONTEXT, 'acme')],
];
const ADMIN_PATHS: [string, Revocation][] = [
  ['impersonationAdmin.revoke by member_session_id', ({ h }, s) => h.services.impersonationAdmin.revoke(CONTEXT, { memberSessionId: s.session.memberSessionId })],
  ['impersonationAdmin.revoke by impersonator_id', ({ h }) => h.services.impersonationAdmin.revoke(CONTEXT, { impersonatorId: 'support-17' })],
  ['impersonationAdmin.revoke by organization and member', ({ h }) => h.services.impersonationAdmin.revoke(CONTEXT, { organization: 'acme-ext', member: 'ann-ext' })],
];

describe.each(STORES)('ImpersonationLedger on $name', (factory) => {
  const harness = useServices(factory);

  describe('revocation', () => {
    it.each([...SESSION_PATHS, ...ADMIN_PATHS])('through %s ends the impersonation and writes impersonation.session_revoked once', async (path, revoke) => {
      const w = await world(harness());
      const { h, ann, bob } = w;
      const session = await impersonate(h, ann);
      const bystander = await impersonate(h, bob, 'kim');
      h.clock.advance(10 * MINUTE);
      await revoke(w, session);
      await revoke(w, session).catch(() => undefined);
      const id = session.session.memberSessionId;
      expect(await domainErrorCode(h.services.sessions.authenticate(CONTEXT, { sessionToken: session.sessionToken }))).toBe('session_not_found');
      expect(await h.store.impersonation.listActiveImpersonatedSessions({ memberSessionId: id }, later(10 * MINUTE))).toEqual([]);
      expect(await h.store.impersonation.listUnrecordedExpiries(later(120 * MINUTE), 10)).not.toContainEqual(expect.objectContaining({ memberSessionId: id }));
      const revoked = await events(h, 'impersonation.session_revoked');
      expect(revoked.filter((event) => event.details.member_session_id === id)).toEqual([
        expect.objectContaining({
          organizationId: ann.organizationId,
          memberId: ann.memberId,
          impersonatorId: 'support-17',
          occurredAt: later(10 * MINUTE),
          details: {
            member_session_id: id,
            impersonator_email_address: 'support-17@support.example',
            reason: REASON,
            started_at: START,
            // An organization's deletion ends its impersonations itself, with the cause.
            ...(path === 'organization deletion' && { why: 'organization_deleted' }),
          },
        }),
      ]);
      // Bob's impersonation ends only when the path covers the whole organization.
      const bobEnded = revoked.some((event) => event.details.member_session_id === bystander.session.memberSessionId);
      expect(bobEnded).toBe(path === 'organization deletion');
    });

    it.each(SESSION_PATHS)('of an ordinary session through %s writes no impersonation event', async (_, revoke) => {
      const w = await world(harness());
      const { h, ann } = w;
      const session = await plainSession(h, ann);
      await revoke(w, session);
      expect(await events(h, 'session.revoked')).toHaveLength(1);
      expect((await auditTrail(h.store)).filter((event) => event.type.startsWith('impersonation.'))).toEqual([]);
    });

    it('impersonationAdmin.revoke needs a selector and names an unknown or ended session', async () => {
      const { h, ann } = await world(harness());
      const session = await impersonate(h, ann);
      expect(await domainErrorCode(h.services.impersonationAdmin.revoke(CONTEXT, {}))).toBe('no_impersonation_revoke_arguments');
      expect(await domainErrorCode(h.services.impersonationAdmin.revoke(CONTEXT, { memberSessionId: 'session-test-unknown' }))).toBe('impersonation_session_not_found');
      expect(await h.services.impersonationAdmin.revoke(CONTEXT, { organization: 'globex' })).toEqual([]);
      await h.services.impersonationAdmin.revoke(CONTEXT, { memberSessionId: session.session.memberSessionId });
      expect(await domainErrorCode(h.services.impersonationAdmin.revoke(CONTEXT, { memberSessionId: session.session.memberSessionId }))).toBe('impersonation_session_not_found');
      expect(await events(h, 'impersonation.session_revoked')).toHaveLength(1);
    });
  });

  describe('recordExpiries', () => {
    it('records impersonation.session_expired once, at the expiry, however often and however concurrently it runs', async () => {
      const { h, ann } = await world(harness());
      const session = await impersonate(h, ann);
      h.clock.advance(60 * MINUTE - 1000);
      expect(await h.services.impersonationLedger.recordExpiries(h.store)).toBe(0);
      h.clock.advance(15 * MINUTE);
      const counts = await Promise.all([1, 2, 3].map(() => h.services.impersonationLedger.recordExpiries(h.store)));
      expect(counts.reduce((sum, count) => sum + count, 0)).toBe(1);
      expect(await h.services.impersonationLedger.recordExpiries(h.store)).toBe(0);
      expect(await events(h, 'impersonation.session_expired')).toEqual([
        expect.objectContaining({
          occurredAt: later(60 * MINUTE),
          organizationId: ann.organizationId,
          memberId: ann.memberId,
          impersonatorId: 'support-17',
          actor: { type: 'system' },
          details: expect.objectContaining({ member_session_id: session.session.memberSessionId, reason: REASON }),
        }),
      ]);
    });

    it('does not record a revoked impersonation as expired', async () => {
      const { h, ann } = await world(harness());
      await impersonate(h, ann);
      expect(await h.services.impersonationAdmin.revoke(CONTEXT, { impersonatorId: 'support-17' })).toHaveLength(1);
      h.clock.advance(61 * MINUTE);
      expect(await h.services.impersonationLedger.recordExpiries(h.store)).toBe(0);
      expect(await events(h, 'impersonation.session_expired')).toEqual([]);
    });
  });

  describe('setPolicy', () => {
    /** The settings recorded with each change of a policy switched off, as they are after it. */
    const OFF_POLICY = { access_mode: 'off', delegated_impersonation: 'members', notify_member: false, notify_admins: false };
    it('audits every change as impersonation.policy_updated with the client; absent fields keep their value', async () => {
      const { h, ann } = await world(harness());
      const acme = ann.organizationId;
      expect((await h.services.impersonationAdmin.getPolicy('acme')).effective).toEqual({ enabled: true, disabledBy: null, redirectUrl: null });
      await h.services.impersonationAdmin.setPolicy(CLIENT, 'acme', { enabled: false, redirectUrl: 'https://acme.example/login' });
      const changed = await h.services.impersonationAdmin.setPolicy(CONTEXT, 'acme-ext', { redirectUrl: 'https://acme.example/other' });
      expect(changed.effective).toEqual({ enabled: false, disabledBy: 'organization', redirectUrl: 'https://acme.example/other' });
      expect((await h.services.impersonationAdmin.getPolicy(acme)).stored).toEqual({ organizationId: acme, enabled: false, accessMode: 'off', delegated: 'members', notifyMember: false, notifyAdmins: false, chosenByOrganization: false, redirectUrl: 'https://acme.example/other', updatedAt: START });
      const updates = await events(h, 'impersonation.policy_updated');
      expect(updates.map((event) => [event.organizationId, event.details])).toEqual([
        [acme, { enabled: false, redirect_url: 'https://acme.example/login', previous_enabled: true, ...OFF_POLICY, previous_access_mode: 'open', changed_fields: ['access_mode', 'impersonation_redirect_url'] }],
        [acme, { enabled: false, redirect_url: 'https://acme.example/other', previous_enabled: false, ...OFF_POLICY, previous_access_mode: 'off', changed_fields: ['impersonation_redirect_url'] }],
      ]);
      expect(updates[0]?.client).toEqual(CLIENT.client);
      expect((await h.services.impersonationAdmin.getPolicy('globex')).stored).toBeUndefined();
    });

    it('refuses a redirect URL that is not https (http only on localhost), has user:password@ or a control character, and an unknown organization, writing nothing', async () => {
      const { h } = await world(harness());
      for (const redirectUrl of ['ftp://acme.example/', 'javascript:alert(1)', 'not a url', 'http://acme.example/', 'https://user:pass@acme.example/', 'https://acme.example/\u001b[2J']) {
        expect(await domainErrorCode(h.services.impersonationAdmin.setPolicy(CONTEXT, 'acme', { redirectUrl }))).toBe('invalid_impersonation_redirect_url');
      }
      expect(await domainErrorCode(h.services.impersonationAdmin.setPolicy(CONTEXT, 'nope', { enabled: false }))).toBe('organization_not_found');
      expect(await events(h, 'impersonation.policy_updated')).toEqual([]);
      expect((await h.services.impersonationAdmin.getPolicy('acme')).stored).toBeUndefined();
    });
  });

  describe('auditTrail', () => {
    /** bob by kim at START (expires), ann by support-17 at +30 min (revoked at +70), cyd by support-17 (minted), a refusal. */
    async function story(h: ServiceHarness, w: World): Promise<void> {
      await impersonate(h, w.bob, 'kim');
      h.clock.advance(30 * MINUTE);
      const ann = await impersonate(h, w.ann);
      await h.services.impersonation.mint(CONTEXT, { organizationReference: 'globex', memberReference: w.cyd.memberId, impersonatorId: 'support-17', impersonatorEmailAddress: 'support-17@support.example', reason: REASON });
      await h.services.impersonation.authenticate(CONTEXT, 'unknown').catch(() => undefined);
      h.clock.advance(40 * MINUTE);
      await h.services.sessions.revoke(CONTEXT, { memberSessionId: ann.session.memberSessionId });
      // Written after the revocation, though it happened (at the expiry) before it.
      await h.services.impersonationLedger.recordExpiries(h.store);
    }

    async function trail(h: ServiceHarness, query: AuditTrailQuery = {}): Promise<string[]> {
      const { events: page } = await h.services.impersonationAdmin.auditTrail(query);
      return page.map((event) => `${event.type}:${event.memberId ?? '-'}`);
    }

    it('returns only impersonation events, in the order they were written', async () => {
      const w = await world(harness());
      const { h, ann, bob, cyd } = w;
      await story(h, w);
      expect(await trail(h)).toEqual([
        `impersonation.token_minted:${bob.memberId}`,
        `impersonation.token_redeemed:${bob.memberId}`,
        `impersonation.token_minted:${ann.memberId}`,
        `impersonation.token_redeemed:${ann.memberId}`,
        `impersonation.token_minted:${cyd.memberId}`,
        'impersonation.redemption_refused:-',
        `impersonation.session_revoked:${ann.memberId}`,
        `impersonation.session_expired:${bob.memberId}`,
      ]);
    });

    it('filters by organization, member and impersonator (ids, slugs or external ids) and by since (inclusive) / until (exclusive)', async () => {
      const w = await world(harness());
      const { h, ann, bob, cyd } = w;
      await story(h, w);
      expect(await trail(h, { organization: 'globex' })).toEqual([`impersonation.token_minted:${cyd.memberId}`]);
      expect(await trail(h, { organization: 'acme-ext', member: 'ann-ext' })).toHaveLength(3);
      expect(await trail(h, { member: bob.memberId })).toHaveLength(3);
      expect(await trail(h, { impersonatorId: 'kim' })).toEqual([`impersonation.token_minted:${bob.memberId}`, `impersonation.token_redeemed:${bob.memberId}`, `impersonation.session_expired:${bob.memberId}`]);
      expect(await trail(h, { impersonatorId: 'support-17', organization: 'acme' })).toHaveLength(3);
      expect(await trail(h, { since: later(60 * MINUTE) })).toEqual([`impersonation.session_revoked:${ann.memberId}`, `impersonation.session_expired:${bob.memberId}`]);
      expect(await trail(h, { since: later(60 * MINUTE), until: later(70 * MINUTE) })).toEqual([`impersonation.session_expired:${bob.memberId}`]);
      expect(await trail(h, { until: later(30 * MINUTE) })).toEqual([`impersonation.token_minted:${bob.memberId}`, `impersonation.token_redeemed:${bob.memberId}`]);
      expect(await trail(h, { until: START })).toEqual([]);
      expect(await domainErrorCode(h.services.impersonationAdmin.auditTrail({ organization: 'nope' }))).toBe('organization_not_found');
      expect(await domainErrorCode(h.services.impersonationAdmin.auditTrail({ organization: 'globex', member: 'ann-ext' }))).toBe('member_not_found');
    });

    it('pages with limit and cursor: every event once, in order, next_cursor null on the last page', async () => {
      const w = await world(harness());
      const { h } = w;
      await story(h, w);
      const all = await trail(h);
      const seen: string[] = [];
      const pageSizes: number[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await h.services.impersonationAdmin.auditTrail({ limit: 3, cursor });
        seen.push(...page.events.map((event) => `${event.type}:${event.memberId ?? '-'}`));
        pageSizes.push(page.events.length);
        if (page.nextCursor === null) break;
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(all);
      expect(pageSizes).toEqual([3, 3, 2]);
      expect((await h.services.impersonationAdmin.auditTrail({ limit: 8 })).nextCursor).toBeNull();
      expect((await h.services.impersonationAdmin.auditTrail({ limit: 1000, cursor: '' })).events).toHaveLength(8);
    });

    it('refuses a bad cursor (invalid_cursor), limit outside 1-1000 (invalid_limit) and since/until not RFC 3339 UTC (bad_request)', async () => {
      const { h } = await world(harness());
      const code = (query: AuditTrailQuery) => domainErrorCode(h.services.impersonationAdmin.auditTrail(query));
      for (const cursor of ['garbage', Buffer.from('audit-event-test-1').toString('base64url'), Buffer.from("' or 1=1 --").toString('base64url')]) {
        expect(await code({ cursor })).toBe('invalid_cursor');
      }
      for (const limit of [0, -1, 1001, 1.5]) expect(await code({ limit })).toBe('invalid_limit');
      for (const since of ['yesterday', '2026-03-01', '2026-03-01T12:00:00+01:00', '2026-03-01 12:00:00Z']) {
        expect(await code({ since })).toBe('bad_request');
        expect(await code({ until: since })).toBe('bad_request');
      }
    });
  });
});
