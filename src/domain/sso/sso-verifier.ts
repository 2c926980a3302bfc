import { findByOpaqueToken } from '../../crypto/opaque-token.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE } from '../common/read-for-update.js';
import { SignInRefusal } from '../email-sign-in/email-proofs.js';
import { checkCodeVerifier } from '../email-sign-in/pkce.js';
import { normalizeEmail, type Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import type { Presented, SignInVerifier, VerifiedFactor } from '../sessions/sign-in/verifier.js';
import { ssoError } from './errors.js';
import type { SsoConnection } from './sso-connection.js';
import { ssoFactor } from './sso-factor.js';
import { checkMethodAllowed } from '../email-sign-in/email-member-rules.js';
import { checkSsoJitProvisioning, findSsoMember, provisionSsoMember, recordSsoSignIn, type SsoMemberRecorded } from './sso-members.js';
import type { SsoStore } from './sso-store.js';
import type { SsoToken } from './sso-token.js';

/** What signing in with an SSO token reads and writes besides the pipeline's rows. */
export type SsoSignInPorts = { organizations: OrganizationsStore; members: MembersStore; sso: SsoStore; audit: AuditStore };

/** The method `member.signed_in` and `member.sign_in_refused` name. */
export const SSO_METHOD = 'sso';

type Scope = SignInRefusal['scope'];

/**
 * sso.authenticate's sign-in method: the single-use token SsoFlows issued once the IdP's answer was
 * verified, spent inside the pipeline's transaction (of concurrent redemptions exactly one wins; the
 * others find it spent). The token names the connection and organization the member signed in
 * through and what the IdP asserted (SsoProof); here the connection must still be active, the
 * organization's `auth_methods` must allow `sso`, and the member is found (by the IdP subject's
 * link, else by address) or provisioned just in time, and records the registration and groups.
 * Every refusal is a SignInRefusal, audited by the caller; it rolls everything back.
 */
export class SsoVerifier implements SignInVerifier<SsoSignInPorts> {
  readonly #token: string;
  readonly #pkceCodeVerifier: string | undefined;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  /** Whom the token was for, once it was spent: a refusal by the pipeline after that is filed under them. */
  verified: { readonly organizationId: string; readonly memberId: string } | undefined;

  constructor(dependencies: { clock: Clock; ids: IdGenerator; audit: AuditRecorder }, input: { token: string; pkceCodeVerifier: string | undefined }) {
    this.#token = input.token;
    this.#pkceCodeVerifier = input.pkceCodeVerifier;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  async verify(tx: SsoSignInPorts, context: OperationContext, presented: Presented): Promise<VerifiedFactor<SsoSignInPorts>> {
    this.verified = undefined;
    const at = toTimestamp(this.#clock.now());
    const token = await this.#usableToken(tx, at);
    const scope: Scope = { organizationId: token.organizationId, memberId: null, method: SSO_METHOD };
    // The lock order (read-for-update.ts): the organization, then the member, then the token's row.
    const organization = await tx.organizations.findOrganization(token.organizationId, FOR_SHARE);
    // Its connections and their tokens are deleted with it: what a later attempt gets anyway.
    if (organization === undefined) throw new SignInRefusal(ssoError('sso_token_not_found'), 'organization_deleted', scope);
    await this.#requireActiveConnection(tx, token, scope);
    const intermediate = presented.intermediateSession;
    if (intermediate !== undefined && intermediate.organizationId !== null && intermediate.organizationId !== organization.organizationId) {
      throw new SignInRefusal(ssoError('sso_connection_organization_mismatch'), 'intermediate_session_of_another_organization', scope);
    }
    const member = await findSsoMember(tx, organization.organizationId, token);
    const memberScope = { ...scope, memberId: member?.memberId ?? null };
    refusing(memberScope, 'method_not_allowed', () => checkMethodAllowed(organization, member, 'sso'));
    const emailAddress = member === undefined ? this.#newMemberAddress(token, organization, memberScope) : undefined;
    if (!(await tx.sso.consumeToken(token.tokenId, at))) {
      // Spent by a concurrent redemption, or deleted with its connection while this one waited: say which.
      const gone = (await tx.sso.findTokenByLookupId(token.lookupId)) === undefined;
      throw new SignInRefusal(ssoError('sso_token_not_found'), gone ? 'connection_deleted' : 'already_used', memberScope);
    }
    const recorded = await this.#record(tx, context, { organization, token, member, emailAddress, at });
    const { registration } = recorded;
    await tx.sso.linkSubject({
      connectionId: token.connectionId,
      externalId: token.proof.subject,
      organizationId: organization.organizationId,
      memberId: recorded.member.memberId,
      registrationId: registration.registrationId,
    });
    this.verified = { organizationId: organization.organizationId, memberId: recorded.member.memberId };
    const factor = ssoFactor({ protocol: token.proof.protocol, registrationId: registration.registrationId, connectionId: token.connectionId, subject: token.proof.subject, at });
    return { member: recorded.member, organization, factor, signInMethod: SSO_METHOD };
  }

  /** The token presented, unspent and unexpired, its PKCE verifier matching; `sso_token_not_found` (or a PKCE code) otherwise. */
  async #usableToken(tx: SsoSignInPorts, at: string): Promise<SsoToken> {
    const unknown: Scope = { organizationId: null, memberId: null, method: SSO_METHOD };
    const found = await findByOpaqueToken(this.#token, (lookupId) => tx.sso.findTokenByLookupId(lookupId), (token) => Buffer.from(token.digest, 'hex'));
    if (found === undefined) throw new SignInRefusal(ssoError('sso_token_not_found'), 'not_found', unknown);
    const scope: Scope = { ...unknown, organizationId: found.organizationId };
    if (found.consumedAt !== null) throw new SignInRefusal(ssoError('sso_token_not_found'), 'already_used', scope);
    if (found.expiresAt <= at) throw new SignInRefusal(ssoError('sso_token_not_found'), 'expired', scope);
    // A PKCE refusal leaves the token unspent: without the verifier it is of no use to whoever holds it.
    refusing(scope, 'pkce_failed', () => checkCodeVerifier(found.pkceCodeChallenge === '' ? null : found.pkceCodeChallenge, this.#pkceCodeVerifier));
    return found;
  }

  /**
   * The connection the token was issued for must still be an active connection of its organization;
   * an external connection's source too. A deleted connection's tokens go with it, so this refuses
   * the rest: one set back to pending, or one deleted while the sign-in was at the IdP.
   */
  async #requireActiveConnection(tx: SsoSignInPorts, token: SsoToken, scope: Scope): Promise<void> {
    const connection = await tx.sso.findConnection(token.connectionId);
    const source = connection?.kind === 'external' ? await tx.sso.findConnection(connection.externalConnectionId) : connection;
    const usable = (candidate: SsoConnection | undefined, organizationId: string) => candidate !== undefined && candidate.status === 'active' && candidate.organizationId === organizationId;
    if (connection === undefined || source === undefined || !usable(connection, token.organizationId)) {
      throw new SignInRefusal(ssoError('sso_connection_not_found'), connection === undefined ? 'connection_deleted' : 'connection_not_active', scope);
    }
    if (connection.kind === 'external' && (source.kind === 'external' || !usable(source, connection.externalOrganizationId))) {
      throw new SignInRefusal(ssoError('sso_connection_not_found'), 'external_source_not_active', scope);
    }
  }

  /**
   * No member has the subject or the address: one may join just in time, through a connection the
   * organization lets provision, with the address the IdP asserted (which the protocol checked).
   */
  #newMemberAddress(token: SsoToken, organization: Organization, scope: Scope): string {
    refusing(scope, 'jit_provisioning_not_allowed', () => checkSsoJitProvisioning(organization, token.connectionId));
    try {
      return normalizeEmail(token.proof.emailAddress);
    } catch {
      const error = token.proof.protocol === 'saml' ? ssoError('invalid_saml_response_email') : ssoError('oidc_response_email_missing');
      throw new SignInRefusal(error, 'invalid_email', scope);
    }
  }

  async #record(
    tx: SsoSignInPorts,
    context: OperationContext,
    input: { organization: Organization; token: SsoToken; member: Member | undefined; emailAddress: string | undefined; at: string },
  ): Promise<SsoMemberRecorded> {
    const { organization, token, member, emailAddress, at } = input;
    if (member !== undefined) return recordSsoSignIn(tx, { ids: this.#ids }, { member, token, at });
    if (emailAddress === undefined) throw new Error('a new member needs an address');
    return provisionSsoMember(tx, { ids: this.#ids, audit: this.#audit }, context, { organization, token, emailAddress, at });
  }
}

/** Runs a rule, turning its domain error into a SignInRefusal with `why`. */
function refusing(scope: Scope, why: string, rule: () => void): void {
  try {
    rule();
  } catch (error) {
    if (isDomainError(error)) throw new SignInRefusal(error, why, scope);
    throw error;
  }
}
