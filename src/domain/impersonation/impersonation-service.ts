import { createOpaqueToken } from '../../crypto/opaque-token.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditEventType } from '../audit/audit-event.js';
import type { AuditStore } from '../audit/audit-store.js';
import { memberError } from '../members/errors.js';
import { canonicalEmail, normalizeEmail, type Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import { operatorError } from '../operators/errors.js';
import type { Operator } from '../operators/operator.js';
import type { OperatorsStore } from '../operators/operators-store.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import type { SessionIssued } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn } from '../sessions/sign-in/pipeline.js';
import { isDomainError, type DomainError } from '../common/domain-error.js';
import { FOR_SHARE } from '../common/read-for-update.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { sharedError } from '../common/errors.js';
import { impersonationError } from './errors.js';
import {
  DEFAULT_TOKEN_MINUTES,
  IMPERSONATED_SESSION_MINUTES,
  MAX_REASON_LENGTH,
  MAX_TOKEN_MINUTES,
  type ImpersonationKind,
  type ImpersonationToken,
  type PermissionMask,
} from './impersonation.js';
import { effectivePolicy, impersonationUrl, type EffectivePolicy, type ProjectImpersonationPolicy } from './impersonation-policy.js';
import type { ImpersonationStore } from './impersonation-store.js';
import { hasControlCharacters, hasLineControlCharacters, redirectUrlProblem } from './impersonation-text.js';
import type { AccessGrantsStore } from './access-grant.js';
import { judgeDelegatedMint, type DelegatingCaller } from './delegated-impersonation.js';
import type { RbacPolicyService } from '../rbac/policy-service.js';
import type { RbacStore } from '../rbac/rbac-store.js';
import { sessionRoleIds } from '../rbac/session-roles.js';
import { sessionError } from '../sessions/errors.js';
import { DEFAULT_DELEGATED_IMPERSONATION } from './impersonation.js';
import type { ImpersonationStartedListener } from './impersonation-notifier.js';
import { maskToWire, parsePermissionMask } from './permission-mask.js';
import { supportAccess } from './support-access.js';
import { ImpersonationVerifier, RedemptionRefusal, checkPresentedToken, impersonationDisabled } from './impersonation-verifier.js';

type Ports = {
  accessGrants: AccessGrantsStore;
  organizations: OrganizationsStore;
  members: MembersStore;
  audit: AuditStore;
  impersonation: ImpersonationStore;
  operators: OperatorsStore;
  rbac: RbacStore;
};
export type ImpersonationServiceStore = Transactional<Ports>;

export interface MintInput {
  readonly organizationReference: string;
  /** A member id, external id or email address. */
  readonly memberReference: string;
  readonly impersonatorId: string;
  readonly impersonatorEmailAddress: string;
  /**
   * An operator, by id or email address, acting as the impersonator (the CLI's `--operator`):
   * `impersonatorId` and `impersonatorEmailAddress` are then ignored.
   */
  readonly operator?: string | undefined;
  readonly reason: string | undefined;
  readonly expirationMinutes?: number | undefined;
  /**
   * The session named by member-session headers on the minting call, if any: an organization admin
   * impersonating in their own organization (delegated impersonation); never an impersonated session (no chains).
   */
  readonly callerSession?: DelegatingCaller | undefined;
  /** What the impersonated session may do (restricted impersonation), as the caller sent it: `"read_only"` or a list of `resource:action`. */
  readonly permissions?: unknown;
  /** Why the edge could not decode the request (a field of the wrong type): refused here, so it is audited like any refusal. */
  readonly malformed?: DomainError | undefined;
  /** Why the member-session headers on the minting call name no live session: refused here, audited, with that error. */
  readonly callerSessionRefusal?: DomainError | undefined;
  /**
   * The password hash the operator was signed in with, when the caller authenticated them (the
   * console): the mint is refused if it changed since, so a mint racing a password reset keeps no
   * token. Without it, the hash read when the mint began is compared.
   */
  readonly operatorPasswordHash?: string | undefined;
}

export interface MintedToken {
  readonly tokenId: string;
  readonly impersonationToken: string;
  readonly expiresAt: string;
  readonly impersonationUrl: string | null;
  readonly member: Member;
  readonly organization: Organization;
}

/** Who a token is minted for: an operator's id and address, or the ones the caller gave. */
interface Impersonator {
  readonly id: string;
  readonly emailAddress: string;
  /** The id the caller gave when an operator's id replaced it, kept in the mint record. */
  readonly requestedId: string | null;
  /** The operator as read when the mint began, when the impersonator is one. */
  readonly operator: Operator | null;
}

/** Longest text of a refused attempt kept in its audit record. */
const MAX_RECORDED_ATTEMPT = 2048;

/**
 * Member impersonation: our minting extension, Stytch's redemption, the policy that
 * governs both, and the ways to end it. Every mint, redemption and refusal is audited.
 */
export class ImpersonationService {
  readonly #store: ImpersonationServiceStore;
  readonly #signIn: SignIn<Ports>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #project: ProjectImpersonationPolicy;
  readonly #started: ImpersonationStartedListener | undefined;
  readonly #rbacPolicy: Pick<RbacPolicyService, 'current'>;

  constructor(dependencies: {
    store: ImpersonationServiceStore;
    /** The sessions capability's sign-in pipeline, which starts the impersonated session. */
    signIn: SignIn<Ports>;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    project: ProjectImpersonationPolicy;
    /** The project's RBAC policy: delegated mints are judged on it, permission masks checked against it. */
    rbacPolicy: Pick<RbacPolicyService, 'current'>;
    /** Told of every impersonated session that started (notification emails); none when omitted. */
    started?: ImpersonationStartedListener | undefined;
  }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#project = dependencies.project;
    this.#started = dependencies.started;
    this.#rbacPolicy = dependencies.rbacPolicy;
  }

  /** Mints a single-use token to impersonate a member; every refusal is audited with why. */
  async mint(context: OperationContext, input: MintInput): Promise<MintedToken> {
    // Lookups first (reads only), so a refusal is filed under the organization and member it names.
    const organization = input.organizationReference === '' ? undefined : await this.#store.organizations.findOrganization(input.organizationReference);
    const member = organization === undefined ? undefined : await this.#findMember(organization, input.memberReference);
    const attempt = {
      organizationId: organization?.organizationId,
      memberId: member?.memberId,
      impersonatorId: recordable(input.operator ?? input.impersonatorId) || undefined,
      details: {
        impersonator_email_address: recordable(input.operator === undefined ? input.impersonatorEmailAddress : ''),
        reason: input.reason === undefined ? null : recordable(input.reason),
      },
    };
    // A mint with member-session headers is the calling session's (a delegated mint, or an impersonated
    // session refused below), malformed or not: its refusals are filed under the caller's organization,
    // with the caller (or, for an impersonation, its impersonator) as impersonator, and under the member
    // it names only when that member is of it (another organization's trail is not theirs to write).
    const delegating = input.callerSession?.isImpersonated === false ? input.callerSession : undefined;
    const caller = input.callerSession;
    const scope =
      caller === undefined
        ? attempt
        : {
            organizationId: caller.organizationId,
            memberId: member?.organizationId === caller.organizationId ? member.memberId : undefined,
            impersonatorId: impersonatorOfCall(caller).id,
            details: { ...attempt.details, impersonator_email_address: impersonatorOfCall(caller).emailAddress },
          };
    const refuse = (error: DomainError, resolved?: Impersonator): Promise<never> =>
      this.#refuse(context, 'impersonation.mint_refused', error, {
        ...scope,
        ...(resolved !== undefined && { impersonatorId: resolved.id, details: { ...scope.details, impersonator_email_address: resolved.emailAddress } }),
      });
    if (input.malformed !== undefined) return refuse(input.malformed);
    if (input.callerSessionRefusal !== undefined) return refuse(input.callerSessionRefusal);
    if (input.callerSession?.isImpersonated === true) {
      return refuse(impersonationError('member_impersonation_not_allowed', 'An impersonated session cannot start another impersonation.'));
    }
    const kind: ImpersonationKind = input.callerSession === undefined ? 'support' : 'delegated';
    // Read before the delegated rules, which compare only what the mask leaves of the member's permissions
    // (an invalid mask is judged as none, the strictest, and refused after them).
    const permissionMask = parsePermissionMask(input.permissions, (await this.#rbacPolicy.current()).policy);
    const judgedMask = isDomainError(permissionMask) ? null : permissionMask;
    // Delegated: the calling member is the impersonator, whatever impersonator_id and impersonator_email_address say.
    let delegate: Impersonator | undefined;
    if (delegating !== undefined) {
      const judged = await this.#judgeDelegated(delegating, organization, member, judgedMask);
      if (isDomainError(judged)) return refuse(judged);
      delegate = { id: judged.impersonatorId, emailAddress: judged.emailAddress, requestedId: null, operator: null };
    }
    if (isDomainError(permissionMask)) return refuse(permissionMask);
    const reason = (input.reason ?? '').trim();
    if (reason === '' || reason.length > MAX_REASON_LENGTH) return refuse(impersonationError('invalid_impersonation_reason'));
    if (hasControlCharacters(reason)) {
      return refuse(impersonationError('invalid_impersonation_reason', 'The reason must not contain control characters (line breaks and tabs are allowed).'));
    }
    const resolved = delegate !== undefined ? { impersonator: delegate, disabled: false } : await this.#impersonator(input);
    if (isDomainError(resolved)) return refuse(resolved);
    const impersonator = resolved.impersonator;
    // A disabled operator impersonates nobody; the refusal is filed under them.
    if (resolved.disabled) return refuse(impersonationError('member_impersonation_not_allowed', 'The impersonator is a disabled operator.'), impersonator);
    const minutes = input.expirationMinutes ?? DEFAULT_TOKEN_MINUTES;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_TOKEN_MINUTES) return refuse(sharedError('invalid_expiration', 'expiration_minutes must be an integer from 1 to 5.'), impersonator);
    if (organization === undefined) return refuse(organizationError('organization_not_found'), impersonator);
    if (member === undefined) return refuse(memberError('member_not_found'), impersonator);
    const policy = await this.#policyFor(organization.organizationId);
    if (!policy.enabled) return refuse(impersonationDisabled(policy), impersonator);

    const now = this.#clock.now();
    const secret = createOpaqueToken(this.#random);
    const token: ImpersonationToken = {
      tokenId: this.#ids.next('impersonation-token'),
      organizationId: organization.organizationId,
      memberId: member.memberId,
      impersonatorId: impersonator.id,
      impersonatorEmailAddress: impersonator.emailAddress,
      reason,
      memberEmailAddress: member.emailAddress,
      createdAt: toTimestamp(now),
      expiresAt: toTimestamp(new Date(now.getTime() + minutes * 60_000)),
      redeemedAt: null,
      memberSessionId: null,
      revokedAt: null,
      grantId: null,
      kind,
      permissionMask,
    };
    const outcome = await this.#store.transaction(async (tx): Promise<{ refusal: DomainError } | { policy: EffectivePolicy }> => {
      // The organization, member and operator rows are locked (in the lock order, read-for-update.ts)
      // and read again, so an organization or member deleted (or readdressed), a policy switched off or
      // an operator disabled or reset meanwhile is either seen here or, committing after this
      // transaction, finds this token and revokes it: none is minted past such a change.
      if ((await tx.organizations.findOrganization(organization.organizationId, FOR_SHARE)) === undefined) return { refusal: organizationError('organization_not_found') };
      const current = await tx.members.findMemberById(member.memberId, FOR_SHARE);
      if (current === undefined || current.status === 'deleted' || current.emailAddress !== member.emailAddress) return { refusal: memberError('member_not_found') };
      const operatorRefusal = await this.#operatorChanged(tx, impersonator, input.operatorPasswordHash);
      if (operatorRefusal !== undefined) return { refusal: operatorRefusal };
      const stored = await tx.impersonation.findPolicy(organization.organizationId);
      const latest = effectivePolicy(this.#project, stored);
      if (!latest.enabled) return { refusal: impersonationDisabled(latest) };
      const urlRefusal = redirectUrlRefusal(latest, stored?.redirectUrl != null);
      if (urlRefusal !== undefined) return { refusal: urlRefusal };
      if (delegating !== undefined) {
        const delegatedRefusal = await this.#judgeDelegatedIn(tx, delegating, current, permissionMask);
        if (delegatedRefusal !== undefined) return { refusal: delegatedRefusal };
      }
      // The organization's access mode (a grant in `by_grant` mode), read in this transaction.
      const access = await supportAccess(tx, stored, { organizationId: token.organizationId, memberId: token.memberId, kind, now: token.createdAt });
      if (isDomainError(access)) return { refusal: access };
      const minted: ImpersonationToken = { ...token, grantId: access.grantId };
      await tx.impersonation.insertToken(minted, { lookupId: secret.lookupId, digest: secret.digest });
      await this.#audit.record(tx.audit, context, {
        type: 'impersonation.token_minted',
        organizationId: token.organizationId,
        memberId: token.memberId,
        impersonatorId: token.impersonatorId,
        occurredAt: token.createdAt,
        details: {
          token_id: token.tokenId,
          impersonator_email_address: token.impersonatorEmailAddress,
          reason,
          expires_at: token.expiresAt,
          kind,
          ...(minted.grantId !== null && { grant_id: minted.grantId }),
          ...(permissionMask !== null && { permissions: maskToWire(permissionMask) }),
          ...(impersonator.requestedId !== null && { requested_impersonator_id: impersonator.requestedId }),
        },
      });
      return { policy: latest };
    });
    if ('refusal' in outcome) return refuse(outcome.refusal, impersonator);
    // The URL of the policy the token was minted under (read in the transaction), not of the one read before it.
    const redirectUrl = outcome.policy.redirectUrl;
    return {
      tokenId: token.tokenId,
      impersonationToken: secret.token,
      expiresAt: token.expiresAt,
      impersonationUrl: redirectUrl === null ? null : impersonationUrl(redirectUrl, secret.token),
      member,
      organization,
    };
  }

  /**
   * impersonation.authenticate: a full session for the member, 60 minutes and never extended, never
   * gated behind MFA; exactly one redemption of a token wins. Every refusal is audited.
   */
  async authenticate(context: OperationContext, impersonationToken: string): Promise<SessionIssued> {
    const verifier = new ImpersonationVerifier({ project: this.#project, clock: this.#clock, audit: this.#audit, rbacPolicy: this.#rbacPolicy }, impersonationToken);
    try {
      await checkPresentedToken(this.#store, impersonationToken, this.#project, toTimestamp(this.#clock.now()));
      const outcome = await this.#signIn.signIn(context, verifier, { sessionDurationMinutes: IMPERSONATED_SESSION_MINUTES });
      // The verifier's factor satisfies MFA, so the pipeline never answers with an intermediate session here.
      if (!outcome.memberAuthenticated) throw new Error('an impersonation sign-in ended in an intermediate session');
      if (this.#started !== undefined) {
        // After the commit, read back as recorded: the notification tells what the ledger holds.
        const started = await this.#store.impersonation.findImpersonatedSession(outcome.session.memberSessionId);
        if (started !== undefined) this.#started.impersonationStarted(context, started);
      }
      return outcome;
    } catch (error) {
      if (!(error instanceof RedemptionRefusal)) throw error;
      const token = error.token;
      if (token === undefined) return this.#refuse(context, 'impersonation.redemption_refused', error.refusal, { details: { why: error.why } });
      // A known token's refusal names the reason it was minted for, like every other event of its trail.
      return this.#refuse(context, 'impersonation.redemption_refused', error.refusal, {
        organizationId: token.organizationId,
        memberId: token.memberId,
        impersonatorId: token.impersonatorId,
        details: { why: error.why, token_id: token.tokenId, reason: token.reason },
      });
    }
  }

  /**
   * The delegated judgement (delegated-impersonation.ts) on the organization's policy and the RBAC
   * policy: read now, or with `tx`, in that transaction (the RBAC policy under its shared lock).
   */
  async #judgeDelegated(
    caller: DelegatingCaller,
    organization: Organization | undefined,
    target: Member | undefined,
    mask: PermissionMask | null,
    tx?: Ports,
  ): Promise<ReturnType<typeof judgeDelegatedMint>> {
    const { policy } = await this.#rbacPolicy.current(tx);
    const stored = organization === undefined ? undefined : await (tx ?? this.#store).impersonation.findPolicy(organization.organizationId);
    return judgeDelegatedMint({
      caller,
      organization,
      target,
      delegated: stored?.delegated ?? DEFAULT_DELEGATED_IMPERSONATION,
      roles: [...policy.roles, ...(organization?.settings.customRoles ?? [])],
      resources: policy.resources,
      mask,
    });
  }

  /**
   * The delegated judgement again inside the mint's transaction, on what can have changed since:
   * the caller's roles (their member row, locked FOR SHARE after the target's), the organization's
   * custom roles and impersonation policy (its row is locked already) and the RBAC policy. A role
   * change or policy change racing the mint either commits first and is judged here, or waits for it.
   */
  async #judgeDelegatedIn(tx: Ports, caller: DelegatingCaller, target: Member, mask: PermissionMask | null): Promise<DomainError | undefined> {
    const organization = await tx.organizations.findOrganization(caller.organizationId);
    const callerMember = await tx.members.findMemberById(caller.memberId, FOR_SHARE);
    if (organization === undefined || callerMember === undefined || callerMember.status === 'deleted') return sessionError('session_not_found');
    const roles = sessionRoleIds(callerMember, organization, caller.authenticationFactors);
    const judged = await this.#judgeDelegated({ ...caller, roles }, organization, target, mask, tx);
    return isDomainError(judged) ? judged : undefined;
  }

  async #findMember(organization: Organization, reference: string): Promise<Member | undefined> {
    // The same canonical form members' addresses are stored in, so a full-width `＠` or letter finds the same member.
    const email = canonicalEmail(reference);
    const member = email.includes('@')
      ? await this.#store.members.findMemberByEmail(organization.organizationId, email)
      : await this.#store.members.findMember(organization.organizationId, reference);
    return member === undefined || member.status === 'deleted' ? undefined : member;
  }

  /**
   * Locks the operator row (after the organization's and member's, in the lock order) and reads it
   * again: a disable or password reset either commits first and is seen here (refused), or waits
   * for this transaction and then revokes the token it minted. Undefined when the mint may go on.
   */
  async #operatorChanged(tx: Ports, impersonator: Impersonator, signedInWith: string | undefined): Promise<DomainError | undefined> {
    if (impersonator.operator === null) return undefined;
    const now = await tx.operators.findOperatorById(impersonator.operator.operatorId, FOR_SHARE);
    if (now === undefined || now.disabledAt !== null) return impersonationError('member_impersonation_not_allowed', 'The impersonator is a disabled operator.');
    if (now.passwordHash !== (signedInWith ?? impersonator.operator.passwordHash)) {
      return impersonationError('member_impersonation_not_allowed', "The impersonator's password was reset while this token was being minted.");
    }
    return undefined;
  }

  /**
   * The impersonator as one identity: when the caller names an operator (the CLI's --operator, or an
   * id or email address that is an operator's), the operator's id and address; otherwise the id and
   * address given. Returns the refusal instead when there is none.
   */
  async #impersonator(input: MintInput): Promise<{ impersonator: Impersonator; disabled: boolean } | DomainError> {
    if (input.operator !== undefined) {
      const named = input.operator.trim();
      const operator = named.includes('@') ? await this.#store.operators.findOperatorByEmail(canonicalEmail(named)) : await this.#store.operators.findOperatorById(named);
      if (operator === undefined) return operatorError('operator_not_found');
      return asImpersonator(operator, null);
    }
    const id = input.impersonatorId.trim();
    const given = input.impersonatorEmailAddress.trim();
    if (hasLineControlCharacters(id) || hasLineControlCharacters(given)) {
      return impersonationError('invalid_impersonator', 'impersonator_id and impersonator_email_address must not contain control characters.');
    }
    const emailAddress = given === '' ? undefined : validEmail(given);
    if (emailAddress === null || id.length > 256) return impersonationError('invalid_impersonator');
    const byId = id === '' ? undefined : await this.#store.operators.findOperatorById(id);
    const byEmail = emailAddress === undefined ? undefined : await this.#store.operators.findOperatorByEmail(emailAddress);
    if (byId !== undefined && emailAddress !== undefined && emailAddress !== byId.emailAddress) {
      return impersonationError('invalid_impersonator', 'impersonator_email_address is not the email address of the operator impersonator_id names.');
    }
    const operator = byId ?? byEmail;
    if (operator !== undefined) return asImpersonator(operator, id === '' || id === operator.operatorId ? null : id);
    if (id === '' || emailAddress === undefined) return impersonationError('invalid_impersonator');
    return { impersonator: { id, emailAddress, requestedId: null, operator: null }, disabled: false };
  }

  async #policyFor(organizationId: string): Promise<EffectivePolicy> {
    return effectivePolicy(this.#project, await this.#store.impersonation.findPolicy(organizationId));
  }

  /** Writes the refusal to the audit trail (its own transaction: nothing else changes), then fails. */
  async #refuse(
    context: OperationContext,
    type: Extract<AuditEventType, 'impersonation.mint_refused' | 'impersonation.redemption_refused'>,
    error: DomainError,
    scope: { organizationId?: string; memberId?: string; impersonatorId?: string; details?: Record<string, unknown> },
  ): Promise<never> {
    await this.#store.transaction((tx) =>
      this.#audit.record(tx.audit, context, {
        type,
        organizationId: scope.organizationId ?? null,
        memberId: scope.memberId ?? null,
        impersonatorId: scope.impersonatorId ?? null,
        details: { ...scope.details, error_type: error.code },
      }),
    );
    throw error;
  }
}

/**
 * Who a mint with member-session headers is, as its refusals record the impersonator: the calling
 * member, or for an impersonated session the impersonator its factor names (the session's member when it names none).
 */
function impersonatorOfCall(caller: DelegatingCaller): { readonly id: string; readonly emailAddress: string } {
  const fields = caller.isImpersonated ? caller.authenticationFactors.find((factor) => factor.type === 'impersonated')?.detail?.fields : undefined;
  const id = fields?.impersonator_id;
  return id === undefined || id === '' ? { id: caller.memberId, emailAddress: caller.emailAddress } : { id, emailAddress: fields?.impersonator_email_address ?? '' };
}

/** An operator as impersonator: always their operator id and address. */
function asImpersonator(operator: Operator, requestedId: string | null): { impersonator: Impersonator; disabled: boolean } {
  return { impersonator: { id: operator.operatorId, emailAddress: operator.emailAddress, requestedId, operator }, disabled: operator.disabledAt !== null };
}

/**
 * The refusal of a mint whose redirect URL breaks today's rule (docs/impersonation.md): one stored
 * before the rule, or written around the API, must be updated before it is handed a token again.
 */
function redirectUrlRefusal(policy: EffectivePolicy, isOrganizations: boolean): DomainError | undefined {
  const problem = policy.redirectUrl === null ? undefined : redirectUrlProblem(policy.redirectUrl);
  if (problem === undefined) return undefined;
  const where = isOrganizations ? "the organization's impersonation_redirect_url (PUT /v1/b2b/impersonation/policies/{organization_id})" : 'UNDERSTUDY_IMPERSONATION_REDIRECT_URL';
  return impersonationError(
    'invalid_impersonation_redirect_url',
    `The impersonation redirect URL in force ${problem}: update ${where} to an https:// URL (http:// only for localhost) without user:password@ before minting.`,
  );
}

/** The address as members' and operators' addresses are stored, or null when it is not a valid one. */
function validEmail(emailAddress: string): string | null {
  try {
    return normalizeEmail(emailAddress);
  } catch (error) {
    if (isDomainError(error)) return null;
    throw error;
  }
}

/**
 * Text of a refused attempt as it is recorded: control characters written out as `\uXXXX`, so the
 * trail (and every terminal it is printed on) never carries them raw, and bounded in length.
 */
function recordable(text: string): string {
  const escaped = [...text].map((character) => (hasLineControlCharacters(character) ? `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}` : character)).join('');
  return escaped.length > MAX_RECORDED_ATTEMPT ? `${escaped.slice(0, MAX_RECORDED_ATTEMPT)}…` : escaped;
}
