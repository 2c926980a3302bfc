import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StoredSigningKey } from '../../../src/crypto/keys/signing-keys-store.js';
import { createOpaqueToken } from '../../../src/crypto/opaque-token.js';
import type { AuditEvent } from '../../../src/domain/audit/audit-event.js';
import type { MintInput } from '../../../src/domain/impersonation/impersonation-service.js';
import type { Member } from '../../../src/domain/members/member.js';
import type { Organization } from '../../../src/domain/organizations/organization.js';
import type { OperationContext } from '../../../src/domain/common/operation-context.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { AuditSqlStore } from '../../../src/storage/sql/audit-sql-store.js';
import { ImpersonationSqlStore } from '../../../src/storage/sql/impersonation-sql-store.js';
import { SessionsSqlStore } from '../../../src/storage/sql/sessions-sql-store.js';
import { emailFactor, givenFactor } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { CONTEXT, START, auditTrail, domainErrorCode, useServices, type ServiceHarness } from './service-harness.js';

const MINUTE = 60_000;
const CLIENT: OperationContext = { ...CONTEXT, client: { ipAddress: '198.51.100.4', userAgent: 'support-console/1.0' } };
const REASON = 'Ticket 4711: cannot see invoices';
const MINT: MintInput = { organizationReference: 'acme', memberReference: 'ann@acme.example', impersonatorId: 'support-17', impersonatorEmailAddress: 'sam@support.example', reason: REASON };
const ACT = { sub: 'support-17', email: 'sam@support.example' };

function later(milliseconds: number): string {
  return new Date(new Date(START).getTime() + milliseconds).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Generating an RSA key takes ~100 ms, so the first test's key is reused (sealed under the harness's master key). */
let sharedSigningKey: StoredSigningKey | undefined;

interface World {
  readonly h: ServiceHarness;
  readonly organization: Organization;
  readonly member: Member;
}

/** A signing key, organization `acme` (external id `acme-ext`) and its member ann@acme.example (external id `ann-ext`). */
async function world(h: ServiceHarness): Promise<World> {
  if (sharedSigningKey !== undefined) await h.store.signingKeys.insertSigningKey(sharedSigningKey);
  await h.services.keystore.ensureSigningKey();
  sharedSigningKey ??= (await h.store.signingKeys.listSigningKeys())[0];
  await h.organizations.create(CONTEXT, { organizationName: 'Acme', organizationSlug: 'acme', organizationExternalId: 'acme-ext' });
  const { member, organization } = await h.members.create(CONTEXT, 'acme', { emailAddress: 'ann@acme.example', externalId: 'ann-ext' });
  return { h, organization, member };
}

async function events(h: ServiceHarness, prefix = 'impersonation.'): Promise<AuditEvent[]> {
  return (await auditTrail(h.store)).filter((event) => event.type.startsWith(prefix));
}

/** What a refusal must not leave behind: a stored token, a member session or an impersonated session. */
async function expectNoImpersonationWrites(h: ServiceHarness, member: Member | undefined): Promise<void> {
  expect(insertToken).not.toHaveBeenCalled();
  expect(insertSession).not.toHaveBeenCalled();
  expect(await h.store.impersonation.listActiveImpersonatedSessions({}, later(0))).toEqual([]);
  if (member !== undefined) expect(await h.store.sessions.listLiveSessions(member.organizationId, member.memberId, later(0))).toEqual([]);
}

const insertToken = vi.spyOn(ImpersonationSqlStore.prototype, 'insertToken');
const insertSession = vi.spyOn(SessionsSqlStore.prototype, 'insertSession');
afterEach(() => {
  vi.clearAllMocks();
});

describe.each(STORES)('ImpersonationService on $name', (factory) => {
  const harness = useServices(factory);

  describe('mint', () => {
    it('stores the token as lookup id and digest and writes one impersonation.token_minted with reason, impersonator and client', async () => {
      const { h, organization, member } = await world(harness());
      const minted = await h.services.impersonation.mint(CLIENT, MINT);
      expect(minted.impersonationToken).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(minted).toMatchObject({ expiresAt: later(5 * MINUTE), impersonationUrl: null, member: { memberId: member.memberId }, organization });
      const stored = await h.store.impersonation.findTokenByLookupId(minted.impersonationToken.slice(0, 12));
      expect(stored?.digest.equals(createHash('sha256').update(minted.impersonationToken).digest())).toBe(true);
      expect(stored?.token).toMatchObject({ organizationId: organization.organizationId, memberId: member.memberId, impersonatorId: 'support-17', reason: REASON, redeemedAt: null });
      expect(insertToken.mock.calls[0]?.[1]).toEqual({ lookupId: minted.impersonationToken.slice(0, 12), digest: expect.any(Buffer) });
      expect(await events(h)).toEqual([
        expect.objectContaining({
          type: 'impersonation.token_minted',
          organizationId: organization.organizationId,
          memberId: member.memberId,
          impersonatorId: 'support-17',
          client: CLIENT.client,
          requestId: CLIENT.requestId,
          details: { token_id: stored?.token.tokenId, impersonator_email_address: 'sam@support.example', reason: REASON, expires_at: later(5 * MINUTE), kind: 'support' },
        }),
      ]);
      expect(JSON.stringify(await auditTrail(h.store))).not.toContain(minted.impersonationToken);
    });

    it('finds the member by id, external id or email address (any case), and honours expirationMinutes 1-5', async () => {
      const { h, member } = await world(harness());
      for (const memberReference of [member.memberId, 'ann-ext', 'ANN@Acme.Example']) {
        expect((await h.services.impersonation.mint(CONTEXT, { ...MINT, memberReference, organizationReference: 'acme-ext' })).member.memberId).toBe(member.memberId);
      }
      expect((await h.services.impersonation.mint(CONTEXT, { ...MINT, expirationMinutes: 1 })).expiresAt).toBe(later(MINUTE));
    });

    const CALLER = { memberSessionId: 'member-session-test-1', memberId: 'member-test-1', emailAddress: 'kim@acme.example', organizationId: 'organization-test-1', isImpersonated: false, roles: [], authenticationFactors: [] };
    const refusals: [string, Partial<MintInput>, string][] = [
      ['an impersonated caller session (no chains)', { callerSession: { ...CALLER, isImpersonated: true } }, 'member_impersonation_not_allowed'],
      ['a missing reason', { reason: undefined }, 'invalid_impersonation_reason'],
      ['a blank reason', { reason: '   ' }, 'invalid_impersonation_reason'],
      ['a reason over 1024 characters', { reason: 'x'.repeat(1025) }, 'invalid_impersonation_reason'],
      ['a blank impersonator id', { impersonatorId: ' ' }, 'invalid_impersonator'],
      ['an impersonator id over 256 characters', { impersonatorId: 'i'.repeat(257) }, 'invalid_impersonator'],
      ['an invalid impersonator email address', { impersonatorEmailAddress: 'sam' }, 'invalid_impersonator'],
      ['expirationMinutes 0', { expirationMinutes: 0 }, 'invalid_expiration'],
      ['expirationMinutes 6', { expirationMinutes: 6 }, 'invalid_expiration'],
      ['expirationMinutes 1.5', { expirationMinutes: 1.5 }, 'invalid_expiration'],
      ['an unknown organization', { organizationReference: 'nope' }, 'organization_not_found'],
      ['an unknown member', { memberReference: 'nobody@acme.example' }, 'member_not_found'],
    ];
    it.each(refusals)('refuses %s: one impersonation.mint_refused with error_type, nothing else written', async (_, change, errorType) => {
      const { h, member } = await world(harness());
      const before = (await auditTrail(h.store)).length;
      expect(await domainErrorCode(h.services.impersonation.mint(CLIENT, { ...MINT, ...change }))).toBe(errorType);
      expect(await auditTrail(h.store)).toHaveLength(before + 1);
      const refused = await events(h);
      // Filed under the organization and member the attempt named, whenever they exist; a member-session
      // caller's under the caller's own organization (the member only when of it), with the caller as impersonator.
      const byCaller = change.callerSession !== undefined;
      const impersonatorId = byCaller ? CALLER.memberId : (change.impersonatorId ?? MINT.impersonatorId);
      const organizationId = byCaller ? CALLER.organizationId : change.organizationReference === undefined ? member.organizationId : null;
      const memberId = !byCaller && change.organizationReference === undefined && change.memberReference === undefined ? member.memberId : null;
      expect(refused).toEqual([expect.objectContaining({ type: 'impersonation.mint_refused', impersonatorId, organizationId, memberId, client: CLIENT.client })]);
      expect(refused[0]?.details).toMatchObject({ error_type: errorType });
      await expectNoImpersonationWrites(h, member);
    });

    it('refuses a deleted member (member_not_found) and a disabled organization (member_impersonation_not_allowed), each audited once with its scope', async () => {
      const { h, organization, member } = await world(harness());
      await h.services.impersonationAdmin.setPolicy(CONTEXT, 'acme', { enabled: false });
      expect(await domainErrorCode(h.services.impersonation.mint(CLIENT, MINT))).toBe('member_impersonation_not_allowed');
      await h.members.delete(CONTEXT, 'acme', member.memberId);
      expect(await domainErrorCode(h.services.impersonation.mint(CLIENT, MINT))).toBe('member_not_found');
      const refused = (await events(h)).filter((event) => event.type === 'impersonation.mint_refused');
      expect(refused.map((event) => [event.organizationId, event.memberId, event.details.error_type])).toEqual([
        [organization.organizationId, member.memberId, 'member_impersonation_not_allowed'],
        [organization.organizationId, null, 'member_not_found'],
      ]);
      expect(insertToken).not.toHaveBeenCalled();
    });
  });

  describe('authenticate', () => {
    it('starts a 60-minute impersonated session, redeems the token and writes the ledger row and impersonation.token_redeemed', async () => {
      const { h, organization, member } = await world(harness());
      const minted = await h.services.impersonation.mint(CONTEXT, MINT);
      h.clock.advance(MINUTE);
      const redeemed = await h.services.impersonation.authenticate(CLIENT, minted.impersonationToken);
      const id = redeemed.session.memberSessionId;
      expect(redeemed.session).toMatchObject({ memberId: member.memberId, organizationId: organization.organizationId, startedAt: later(MINUTE), expiresAt: later(61 * MINUTE) });
      expect(redeemed.session.authenticationFactors).toEqual([
        expect.objectContaining({ type: 'impersonated', deliveryMethod: 'impersonation', detail: { name: 'impersonated_factor', fields: { impersonator_id: 'support-17', impersonator_email_address: 'sam@support.example' } } }),
      ]);
      expect(redeemed.sessionToken).toMatch(/^[A-Za-z0-9_-]{44}$/);
      expect(decodeJwt(redeemed.sessionJwt).act).toEqual(ACT);
      expect((await h.store.sessions.findSessionById(id))?.session).toEqual(redeemed.session);
      const token = (await h.store.impersonation.findTokenByLookupId(minted.impersonationToken.slice(0, 12)))?.token;
      expect(token).toMatchObject({ redeemedAt: later(MINUTE), memberSessionId: id });
      expect(await h.store.impersonation.listActiveImpersonatedSessions({}, later(MINUTE))).toEqual([
        { memberSessionId: id, tokenId: token?.tokenId, organizationId: organization.organizationId, memberId: member.memberId, impersonatorId: 'support-17', impersonatorEmailAddress: 'sam@support.example', reason: REASON, startedAt: later(MINUTE), expiresAt: later(61 * MINUTE), endedAt: null, endReason: null, grantId: null, kind: 'support', permissionMask: null },
      ]);
      const written = (await events(h, '')).slice(-2);
      expect(written.map((event) => event.type)).toEqual(['session.started', 'impersonation.token_redeemed']);
      expect(written[1]).toMatchObject({ organizationId: organization.organizationId, memberId: member.memberId, impersonatorId: 'support-17', client: CLIENT.client, details: { token_id: token?.tokenId, member_session_id: id, reason: REASON } });
    });

    it('writes nothing when the audit event cannot be written: session, ledger row and redemption share one transaction', async () => {
      const { h, member } = await world(harness());
      const minted = await h.services.impersonation.mint(CONTEXT, MINT);
      const append = AuditSqlStore.prototype.appendEvent;
      const failing = vi.spyOn(AuditSqlStore.prototype, 'appendEvent').mockImplementation(function (this: AuditSqlStore, event) {
        return event.type === 'impersonation.token_redeemed' ? Promise.reject(new Error('disk full')) : append.call(this, event);
      });
      try {
        await expect(h.services.impersonation.authenticate(CONTEXT, minted.impersonationToken)).rejects.toThrow('disk full');
      } finally {
        failing.mockRestore();
      }
      expect((await h.store.impersonation.findTokenByLookupId(minted.impersonationToken.slice(0, 12)))?.token.redeemedAt).toBeNull();
      expect(await h.store.sessions.listLiveSessions(member.organizationId, member.memberId, later(0))).toEqual([]);
      expect(await h.store.impersonation.listActiveImpersonatedSessions({}, later(0))).toEqual([]);
      expect((await events(h, '')).filter((event) => event.type === 'session.started')).toEqual([]);
      // The token was not spent: it still works.
      expect((await h.services.impersonation.authenticate(CONTEXT, minted.impersonationToken)).session.memberId).toBe(member.memberId);
    });

    it('lets exactly one of 10 concurrent redemptions win; the others are refused as already_used and leave no session', async () => {
      const { h, member } = await world(harness());
      const minted = await h.services.impersonation.mint(CONTEXT, MINT);
      const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => h.services.impersonation.authenticate(CONTEXT, minted.impersonationToken)));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      expect(await h.store.sessions.listLiveSessions(member.organizationId, member.memberId, later(0))).toHaveLength(1);
      expect(await h.store.impersonation.listActiveImpersonatedSessions({}, later(0))).toHaveLength(1);
      const refused = (await events(h)).filter((event) => event.type === 'impersonation.redemption_refused');
      expect(refused).toHaveLength(9);
      for (const event of refused) expect(event.details).toMatchObject({ why: 'already_used', error_type: 'unable_to_auth_impersonation_token' });
    });

    type Spoil = (w: World, token: string) => Promise<string | undefined>;
    const refusals: [string, Spoil, string, string][] = [
      ['a malformed token', async () => 'not-a-token', 'unknown_token', 'unable_to_auth_impersonation_token'],
      ['an unknown token', async () => createOpaqueToken(cryptoRandom).token, 'unknown_token', 'unable_to_auth_impersonation_token'],
      ['a token with a known lookup id and a wrong secret', async (_, token) => `${token.slice(0, 12)}${'A'.repeat(32)}`, 'unknown_token', 'unable_to_auth_impersonation_token'],
      [
        'a token at its expiry',
        async ({ h }) => {
          h.clock.advance(5 * MINUTE);
          return undefined;
        },
        'expired',
        'unable_to_auth_impersonation_token',
      ],
      [
        'a token of an organization that disabled impersonation after the mint',
        async ({ h }) => {
          await h.services.impersonationAdmin.setPolicy(CONTEXT, 'acme', { enabled: false });
          return undefined;
        },
        'disabled_by_organization',
        'member_impersonation_not_allowed',
      ],
      [
        'a token of a member deleted after the mint',
        async ({ h, member }) => {
          await h.members.delete(CONTEXT, 'acme', member.memberId);
          return undefined;
        },
        'member_deleted',
        'unable_to_auth_impersonation_token',
      ],
      [
        'a token of an organization deleted after the mint',
        async ({ h }) => {
          await h.organizations.delete(CONTEXT, 'acme');
          return undefined;
        },
        'organization_deleted',
        'unable_to_auth_impersonation_token',
      ],
    ];
    it.each(refusals)('refuses %s: one impersonation.redemption_refused with why and error_type, no session', async (_, spoil, why, errorType) => {
      const w = await world(harness());
      const { h } = w;
      const minted = await h.services.impersonation.mint(CONTEXT, MINT);
      const presented = (await spoil(w, minted.impersonationToken)) ?? minted.impersonationToken;
      insertSession.mockClear();
      const before = (await auditTrail(h.store)).length;
      expect(await domainErrorCode(h.services.impersonation.authenticate(CLIENT, presented))).toBe(errorType);
      const written = (await auditTrail(h.store)).slice(before);
      expect(written).toEqual([expect.objectContaining({ type: 'impersonation.redemption_refused', client: CLIENT.client })]);
      expect(written[0]?.details).toMatchObject({ why, error_type: errorType });
      expect(insertSession).not.toHaveBeenCalled();
      expect(await h.store.impersonation.listActiveImpersonatedSessions({}, later(0))).toEqual([]);
      expect((await h.store.impersonation.findTokenByLookupId(minted.impersonationToken.slice(0, 12)))?.token.redeemedAt).toBeNull();
    });

    it('refuses a token already used: one redemption_refused (already_used) and the one session stays', async () => {
      const { h } = await world(harness());
      const minted = await h.services.impersonation.mint(CONTEXT, MINT);
      const first = await h.services.impersonation.authenticate(CONTEXT, minted.impersonationToken);
      expect(await domainErrorCode(h.services.impersonation.authenticate(CONTEXT, minted.impersonationToken))).toBe('unable_to_auth_impersonation_token');
      const refused = (await events(h)).filter((event) => event.type === 'impersonation.redemption_refused');
      expect(refused.map((event) => event.details)).toEqual([expect.objectContaining({ why: 'already_used', error_type: 'unable_to_auth_impersonation_token' })]);
      expect((await h.store.impersonation.listActiveImpersonatedSessions({}, later(0))).map((session) => session.memberSessionId)).toEqual([first.session.memberSessionId]);
    });
  });

  describe('the impersonated session', () => {
    it('carries act in every JWT, accepts no other factor, and keeps its expiry whatever duration authenticate asks for', async () => {
      const { h, member } = await world(harness());
      const redeemed = await h.services.impersonation.authenticate(CONTEXT, (await h.services.impersonation.mint(CONTEXT, MINT)).impersonationToken);
      h.clock.advance(10 * MINUTE);
      expect(decodeJwt(await h.services.sessions.issueJwt(redeemed)).act).toEqual(ACT);
      const addFactor = h.services.signIn.signIn(CONTEXT, givenFactor(member, redeemed.organization, emailFactor(member.emailAddress, later(10 * MINUTE))), { sessionToken: redeemed.sessionToken });
      expect(await domainErrorCode(addFactor)).toBe('session_not_mutable_impersonated');
      for (const sessionDurationMinutes of [5, 600]) {
        const authenticated = await h.services.sessions.authenticate(CONTEXT, { sessionToken: redeemed.sessionToken, sessionDurationMinutes });
        expect(authenticated.session.expiresAt).toBe(later(60 * MINUTE));
        expect(decodeJwt(authenticated.sessionJwt).act).toEqual(ACT);
      }
      const stored = (await h.store.sessions.findSessionById(redeemed.session.memberSessionId))?.session;
      expect(stored?.expiresAt).toBe(later(60 * MINUTE));
      expect(stored?.authenticationFactors.map((factor) => factor.type)).toEqual(['impersonated']);
    });
  });
});

const PROJECT_URL = 'https://project.example/impersonate?from=understudy';

describe.each(STORES)('impersonation policy on $name', (factory) => {
  describe('with the project switched off', () => {
    const harness = useServices(factory, { impersonation: { enabled: false, redirectUrl: PROJECT_URL } });

    it("wins over the organization's own switch: mint and redemption are refused (disabled_by_project)", async () => {
      const { h, organization, member } = await world(harness());
      const view = await h.services.impersonationAdmin.setPolicy(CONTEXT, 'acme', { enabled: true });
      expect(view.effective).toEqual({ enabled: false, disabledBy: 'project', redirectUrl: PROJECT_URL });
      expect(await domainErrorCode(h.services.impersonation.mint(CONTEXT, MINT))).toBe('member_impersonation_not_allowed');
      // A token minted while the project still allowed it is refused at redemption.
      const secret = createOpaqueToken(cryptoRandom);
      await h.store.impersonation.insertToken(
        { tokenId: 'impersonation-token-test-1', organizationId: organization.organizationId, memberId: member.memberId, impersonatorId: 'support-17', impersonatorEmailAddress: 'sam@support.example', reason: REASON, memberEmailAddress: member.emailAddress, createdAt: START, expiresAt: later(5 * MINUTE), redeemedAt: null, memberSessionId: null, revokedAt: null, grantId: null, kind: 'support', permissionMask: null },
        { lookupId: secret.lookupId, digest: secret.digest },
      );
      insertToken.mockClear();
      expect(await domainErrorCode(h.services.impersonation.authenticate(CONTEXT, secret.token))).toBe('member_impersonation_not_allowed');
      const refusals = (await events(h)).filter((event) => event.type.endsWith('_refused'));
      expect(refusals.map((event) => [event.type, event.details.error_type, event.details.why])).toEqual([
        ['impersonation.mint_refused', 'member_impersonation_not_allowed', undefined],
        ['impersonation.redemption_refused', 'member_impersonation_not_allowed', 'disabled_by_project'],
      ]);
      await expectNoImpersonationWrites(h, member);
    });
  });

  describe('with a project redirect URL', () => {
    const harness = useServices(factory, { impersonation: { enabled: true, redirectUrl: PROJECT_URL } });

    it("builds impersonation_url from the organization's URL when it has one, else the project's", async () => {
      const { h } = await world(harness());
      const mintUrl = async (): Promise<string | null> => {
        const minted = await h.services.impersonation.mint(CONTEXT, MINT);
        expect(minted.impersonationUrl?.endsWith(`&stytch_token_type=multi_tenant_impersonation&token=${minted.impersonationToken}`)).toBe(true);
        return minted.impersonationUrl?.split('&stytch_token_type')[0] ?? null;
      };
      expect(await mintUrl()).toBe(PROJECT_URL);
      await h.services.impersonationAdmin.setPolicy(CONTEXT, 'acme', { redirectUrl: 'https://acme.example/login?next=/home' });
      expect(await mintUrl()).toBe('https://acme.example/login?next=/home');
      await h.services.impersonationAdmin.setPolicy(CONTEXT, 'acme', { redirectUrl: null });
      expect(await mintUrl()).toBe(PROJECT_URL);
    });
  });
});
