import { findByOpaqueToken } from '../../crypto/opaque-token.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE, type ReadForUpdate } from '../common/read-for-update.js';
import type { Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import type { OperatorsStore } from '../operators/operators-store.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import type { AuthenticationFactor, MemberSession } from '../sessions/session.js';
import type { SignInVerifier, VerifiedFactor } from '../sessions/sign-in/verifier.js';
import type { RbacPolicyService } from '../rbac/policy-service.js';
import type { RbacStore } from '../rbac/rbac-store.js';
import { effectiveRoles } from '../members/member.js';
import { grantCovers, grantState, type AccessGrantsStore } from './access-grant.js';
import { isDelegationAdmin } from './delegated-impersonation.js';
import { impersonationError } from './errors.js';
import { DEFAULT_DELEGATED_IMPERSONATION, type ImpersonatedSession, type ImpersonationPolicy, type ImpersonationToken } from './impersonation.js';
import { effectivePolicy, type EffectivePolicy, type ProjectImpersonationPolicy } from './impersonation-policy.js';
import type { ImpersonationStore } from './impersonation-store.js';

/** What redeeming a token reads and writes, besides what the sign-in pipeline writes. */
export type ImpersonationVerifierPorts = {
  accessGrants: AccessGrantsStore;
  organizations: OrganizationsStore;
  members: MembersStore;
  operators: OperatorsStore;
  impersonation: ImpersonationStore;
  audit: AuditStore;
  rbac: RbacStore;
};

/** Why a redemption was refused: the error answered, the `why` recorded, and the token when it is a known one. */
export class RedemptionRefusal extends Error {
  constructor(
    readonly refusal: DomainError,
    readonly why: string,
    readonly token?: ImpersonationToken,
  ) {
    super(refusal.message);
  }
}

/**
 * impersonation.authenticate's sign-in method: a single-use impersonation token, turned into the
 * member it was minted for and an `impersonated` factor. Its session is claimed by the one
 * redemption whose update marks the token redeemed; every refusal is a RedemptionRefusal (the
 * caller audits it). Stytch never gates an impersonated session behind MFA.
 */
export class ImpersonationVerifier implements SignInVerifier<ImpersonationVerifierPorts> {
  readonly #presented: string;
  readonly #project: ProjectImpersonationPolicy;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'current'>;

  constructor(
    dependencies: { project: ProjectImpersonationPolicy; clock: Clock; audit: AuditRecorder; rbacPolicy: Pick<RbacPolicyService, 'current'> },
    presented: string,
  ) {
    this.#presented = presented;
    this.#project = dependencies.project;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
    this.#rbacPolicy = dependencies.rbacPolicy;
  }

  async verify(tx: ImpersonationVerifierPorts): Promise<VerifiedFactor<ImpersonationVerifierPorts>> {
    const at = toTimestamp(this.#clock.now());
    // Again inside the transaction (checkPresentedToken ran before it with plain reads): a redemption
    // or revocation may have committed in between.
    const { token, lookupId, policy } = await checkPresentedToken(tx, this.#presented, this.#project, at);
    // Read locked (organization, then member: the lock order, read-for-update.ts): a delete of
    // either commits first and is seen here, or waits for this transaction and then ends its
    // session. A revocation is seen by the claiming update (onSession); these checks come first so
    // a refusal names the cause that still holds (a member still deleted).
    const locked = await subjectOf(tx, token, FOR_SHARE);
    if ('error' in locked) throw new RedemptionRefusal(locked.error, locked.why, token);
    if (token.kind === 'delegated') await this.#delegationStillAllows(tx, token, locked);
    // Disabling an operator revokes their tokens; this also catches one minted while the disable committed.
    const operator = await tx.operators.findOperatorByEmail(token.impersonatorEmailAddress);
    if (operator !== undefined && operator.disabledAt !== null) {
      throw new RedemptionRefusal(impersonationError('unable_to_auth_impersonation_token', 'The operator this token was minted for is disabled.'), 'operator_disabled', token);
    }
    const access = await supportAccessAt(tx, token, policy, at);
    return {
      ...locked,
      factor: impersonatedFactor(token, at),
      satisfiesMfa: true,
      // A session started under a grant ends when the grant does, if that is sooner than its hour.
      ...(access.endsBy !== null && { expiresNoLaterThan: access.endsBy }),
      onSession: (sessionTx, context, session) => this.#redeem(sessionTx, context, { token, lookupId }, session, at),
    };
  }

  /**
   * A delegated token redeems only while the member who minted it is still one of the organization's
   * (their row locked FOR SHARE after the impersonated member's, the order the mint takes them in: a
   * deletion either commits first and is seen here, or waits and then ends the session started here)
   * and while the organization's `delegated_impersonation` still allows it: not `off`, and an admin
   * only under `members_and_admins`. The policy is read again now the organization row is locked, so
   * a change committed before this redemption is seen; one committed after ends what it started.
   */
  async #delegationStillAllows(tx: ImpersonationVerifierPorts, token: ImpersonationToken, subject: { organization: Organization; member: Member }): Promise<void> {
    const impersonator = await tx.members.findMemberById(token.impersonatorId, FOR_SHARE);
    if (impersonator === undefined || impersonator.status === 'deleted' || impersonator.organizationId !== token.organizationId) {
      throw new RedemptionRefusal(
        impersonationError('unable_to_auth_impersonation_token', 'The member who minted this impersonation token is no longer a member of the organization.'),
        'impersonator_removed',
        token,
      );
    }
    const delegated = (await tx.impersonation.findPolicy(token.organizationId))?.delegated ?? DEFAULT_DELEGATED_IMPERSONATION;
    if (delegated === 'off') {
      throw new RedemptionRefusal(
        impersonationError('delegated_impersonation_not_allowed', "The organization no longer lets its members impersonate each other (delegated_impersonation is off)."),
        'delegation_disabled',
        token,
      );
    }
    if (delegated === 'members_and_admins') return;
    const { policy } = await this.#rbacPolicy.current(tx);
    const definitions = [...policy.roles, ...subject.organization.settings.customRoles];
    if (isDelegationAdmin(effectiveRoles(subject.member, subject.organization).map((role) => role.roleId), definitions)) {
      throw new RedemptionRefusal(
        impersonationError('delegated_impersonation_not_allowed', "The member is an admin, and the organization's impersonation policy now lets only members who are not be impersonated (delegated_impersonation is members)."),
        'delegation_disabled',
        token,
      );
    }
  }

  /** Claims the token for the session just started; losing the claim rolls the session back. */
  async #redeem(
    tx: ImpersonationVerifierPorts,
    context: OperationContext,
    { token, lookupId }: { token: ImpersonationToken; lookupId: string },
    session: MemberSession,
    at: string,
  ): Promise<void> {
    if (!(await tx.impersonation.redeemToken(token.tokenId, at, session.memberSessionId))) {
      // Another redemption, or a revocation, claimed the token first (the update waited for it and
      // this read sees what it committed): say which. Throwing rolls the new session back.
      const claimed = (await tx.impersonation.findTokenByLookupId(lookupId))?.token;
      throw new RedemptionRefusal(impersonationError('unable_to_auth_impersonation_token'), claimed?.revokedAt != null ? 'revoked' : 'already_used', token);
    }
    await tx.impersonation.insertImpersonatedSession(ledgerEntry(token, session));
    await this.#audit.record(tx.audit, context, {
      type: 'impersonation.token_redeemed',
      organizationId: token.organizationId,
      memberId: token.memberId,
      impersonatorId: token.impersonatorId,
      occurredAt: at,
      details: {
        token_id: token.tokenId,
        member_session_id: session.memberSessionId,
        reason: token.reason,
        impersonator_email_address: token.impersonatorEmailAddress,
        expires_at: session.expiresAt,
      },
    });
  }
}

/**
 * The checks that need no lock: the token is one this server minted (digest compared in constant
 * time), unredeemed, unexpired, and impersonation is enabled for its organization. Run once with
 * plain reads before the sign-in's transaction, so a bogus or spent token costs no write lock, and
 * again inside it. No limit on failures per caller: the token cannot be guessed, and a limit keyed on
 * the customer's backend would let anyone's bogus tokens get its genuine redemptions refused.
 */
export async function checkPresentedToken(
  ports: Pick<ImpersonationVerifierPorts, 'impersonation'>,
  presented: string,
  project: ProjectImpersonationPolicy,
  at: string,
): Promise<{ token: ImpersonationToken; lookupId: string; policy: ImpersonationPolicy | undefined }> {
  const found = await findByOpaqueToken(
    presented,
    async (lookupId) => {
      const stored = await ports.impersonation.findTokenByLookupId(lookupId);
      return stored && { ...stored, lookupId };
    },
    (stored) => stored.digest,
  );
  if (found === undefined) {
    throw new RedemptionRefusal(impersonationError('unable_to_auth_impersonation_token'), 'unknown_token');
  }
  const token = found.token;
  if (token.redeemedAt !== null) throw new RedemptionRefusal(impersonationError('unable_to_auth_impersonation_token'), 'already_used', token);
  if (token.expiresAt <= at) throw new RedemptionRefusal(impersonationError('unable_to_auth_impersonation_token'), 'expired', token);
  const stored = await ports.impersonation.findPolicy(token.organizationId);
  const policy = effectivePolicy(project, stored);
  if (!policy.enabled) throw new RedemptionRefusal(impersonationDisabled(policy), `disabled_by_${policy.disabledBy}`, token);
  return { token, lookupId: found.lookupId, policy: stored };
}

/**
 * The organization's access mode at redemption: support's token minted under a grant redeems only
 * while that grant still covers the member (read FOR SHARE, so a revocation racing this redemption
 * waits for it and then ends the session it started), and one minted with no grant does not redeem
 * once the organization is in `by_grant` mode. Delegated tokens need no grant. Answers when the
 * grant ends (the session's latest end), or null.
 */
async function supportAccessAt(
  tx: Pick<ImpersonationVerifierPorts, 'accessGrants'>,
  token: ImpersonationToken,
  policy: ImpersonationPolicy | undefined,
  at: string,
): Promise<{ endsBy: string | null }> {
  if (token.kind !== 'support') return { endsBy: null };
  if (token.grantId === null) {
    if (policy?.accessMode !== 'by_grant') return { endsBy: null };
    throw new RedemptionRefusal(
      impersonationError('impersonation_access_not_granted', 'This token was minted before the organization required an access grant, so it no longer redeems.'),
      'access_mode_changed',
      token,
    );
  }
  const grant = await tx.accessGrants.findGrant(token.grantId, 'for_share');
  if (grant === undefined || !grantCovers(grant, token.memberId, at)) {
    const expired = grant !== undefined && grantState(grant, at) === 'expired';
    throw new RedemptionRefusal(
      impersonationError('impersonation_access_not_granted', `The access grant this token was minted under has ${expired ? 'expired' : 'been revoked'}.`),
      expired ? 'grant_expired' : 'grant_revoked',
      token,
    );
  }
  return { endsBy: grant.expiresAt };
}

export function impersonationDisabled(policy: EffectivePolicy): DomainError {
  return impersonationError(
    'member_impersonation_not_allowed',
    policy.disabledBy === 'project' ? 'Impersonation is disabled for this project.' : 'Impersonation is disabled for this organization.',
  );
}

/**
 * The organization and member a token opens a session for, as they are now (locked when asked), or
 * why it no longer may: the organization or member deleted, or the member's address changed since
 * the mint (the token is bound to it: after a change it names someone else's account).
 */
async function subjectOf(
  ports: Pick<ImpersonationVerifierPorts, 'organizations' | 'members'>,
  token: ImpersonationToken,
  lock?: ReadForUpdate,
): Promise<{ organization: Organization; member: Member } | { error: DomainError; why: string }> {
  const organization = await ports.organizations.findOrganization(token.organizationId, lock);
  if (organization === undefined) {
    return { error: impersonationError('unable_to_auth_impersonation_token', 'The organization of this impersonation token no longer exists.'), why: 'organization_deleted' };
  }
  const member = await ports.members.findMemberById(token.memberId, lock);
  if (member === undefined || member.status === 'deleted') {
    return { error: impersonationError('unable_to_auth_impersonation_token', 'The member of this impersonation token no longer exists.'), why: 'member_deleted' };
  }
  if (member.emailAddress !== token.memberEmailAddress) {
    return { error: impersonationError('unable_to_auth_impersonation_token', "The member's email address changed after this token was minted."), why: 'member_changed' };
  }
  return { organization, member };
}

/** Stytch's one factor of an impersonated session, naming the impersonator. */
function impersonatedFactor(token: ImpersonationToken, at: string): AuthenticationFactor {
  return {
    type: 'impersonated',
    deliveryMethod: 'impersonation',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: {
      name: 'impersonated_factor',
      fields: { impersonator_id: token.impersonatorId, impersonator_email_address: token.impersonatorEmailAddress },
    },
  };
}

function ledgerEntry(token: ImpersonationToken, session: { memberSessionId: string; startedAt: string; expiresAt: string }): ImpersonatedSession {
  return {
    memberSessionId: session.memberSessionId,
    tokenId: token.tokenId,
    organizationId: token.organizationId,
    memberId: token.memberId,
    impersonatorId: token.impersonatorId,
    impersonatorEmailAddress: token.impersonatorEmailAddress,
    reason: token.reason,
    startedAt: session.startedAt,
    expiresAt: session.expiresAt,
    endedAt: null,
    endReason: null,
    grantId: token.grantId,
    kind: token.kind,
    permissionMask: token.permissionMask,
  };
}
