import type { Clock } from '../../platform/clock.js';
import { requireOrganization } from '../organizations/require-organization.js';
import { emptyAsAbsent } from '../common/optional-text.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE } from '../common/read-for-update.js';
import { retryOnceOnDuplicate } from '../email-sign-in/email-member-rules.js';
import { newMember, STYTCH_ADMIN } from '../members/member.js';
import { draftOrganization, insertOrganizationDraft, type CreateOrganizationInput } from '../organizations/organizations-service.js';
import type { StorePorts } from '../ports.js';
import type { IntermediateSession } from '../sessions/intermediate-session.js';
import type { AuthOutcome } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn } from '../sessions/sign-in/pipeline.js';
import type { Presented, SignInVerifier, VerifiedExchange } from '../sessions/sign-in/verifier.js';
import { discoveryFactors, entryRequirements } from './discovered-organizations.js';
import { defaultOrganizationName, isEmailProof, memberForAddress, proofFor } from './exchange-rules.js';

/** What both discovery exchanges take besides their own fields. */
interface SessionOptions {
  readonly intermediateSessionToken: string;
  readonly sessionDurationMinutes?: number | undefined;
  readonly sessionCustomClaims?: Record<string, unknown> | undefined;
  /** The language of an SMS code sent when MFA is required (one of Stytch's SMS locales). */
  readonly locale?: string | undefined;
}

export interface ExchangeIntermediateSessionInput extends SessionOptions {
  /** An organization id, slug or external id, as everywhere Stytch takes an organization_id. */
  readonly organizationId: string;
}

/** The organization's fields as organizations.create takes them; name and slug default from the address. */
export type CreateOrganizationViaDiscoveryInput = SessionOptions & Omit<CreateOrganizationInput, 'organizationName'> & { readonly organizationName?: string | undefined };

const METHOD = 'discovery';

/**
 * The end of discovery: the intermediate session that proved an email address becomes a member
 * session in an organization the address chooses (discovery.intermediateSessions.exchange) or
 * creates (discovery.organizations.create). Both run through the sign-in pipeline as an exchange
 * (verifier.ts): in one transaction the member is found, joined just-in-time or created with the
 * organization, and the intermediate session is spent by the session it gives; when the
 * organization still requires MFA, or a primary factor its `auth_methods` allow, nothing is spent
 * and the same intermediate session token comes back with what is required.
 */
export class DiscoveryExchange {
  readonly #signIn: SignIn<StorePorts>;
  readonly #ids: IdGenerator;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;

  constructor(dependencies: { signIn: SignIn<StorePorts>; ids: IdGenerator; clock: Clock; audit: AuditRecorder }) {
    this.#signIn = dependencies.signIn;
    this.#ids = dependencies.ids;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
  }

  get #rules(): { ids: IdGenerator; clock: Clock; audit: AuditRecorder } {
    return { ids: this.#ids, clock: this.#clock, audit: this.#audit };
  }

  /** discovery.intermediateSessions.exchange. */
  async exchange(context: OperationContext, input: ExchangeIntermediateSessionInput): Promise<AuthOutcome> {
    const verifier: SignInVerifier<StorePorts> = { verify: (tx, verifyContext, presented) => this.#join(tx, verifyContext, input.organizationId, presented) };
    // Two exchanges of different intermediate sessions of one address may race to create its member: the loser runs again and finds it.
    return retryOnceOnDuplicate(() => this.#signIn.signIn(context, verifier, sessionOptions(input)));
  }

  /** discovery.organizations.create: the organization, its first member (an admin) and their session, in one transaction. */
  async createOrganization(context: OperationContext, input: CreateOrganizationViaDiscoveryInput): Promise<AuthOutcome> {
    const verifier: SignInVerifier<StorePorts> = { verify: (tx, verifyContext, presented) => this.#create(tx, verifyContext, input, presented) };
    return this.#signIn.signIn(context, verifier, sessionOptions(input));
  }

  async #join(tx: StorePorts, context: OperationContext, reference: string, presented: Presented): Promise<VerifiedExchange> {
    const intermediate = presentedIntermediate(presented);
    const { emailAddress } = intermediate;
    const authenticationFactors = discoveryFactors(intermediate);
    // Locked first (lock order): the organization must not be deleted under its new member or session.
    const organization = await requireOrganization(tx, reference, FOR_SHARE);
    const existing = await tx.members.findMemberByEmail(organization.organizationId, emailAddress);
    const { primaryRequired } = entryRequirements(organization, existing ?? null, emailAddress, authenticationFactors);
    const member = await memberForAddress(tx, this.#rules, context, organization, emailAddress, { existing, signIn: primaryRequired === null, jit: true });
    return {
      member,
      organization,
      carriedFactors: authenticationFactors.filter(isEmailProof).map((factor) => proofFor(factor, this.#ids.environment, member)),
      primaryRequired,
      signInMethod: METHOD,
    };
  }

  async #create(tx: StorePorts, context: OperationContext, input: CreateOrganizationViaDiscoveryInput, presented: Presented): Promise<VerifiedExchange> {
    const intermediate = presentedIntermediate(presented);
    const { emailAddress } = intermediate;
    const authenticationFactors = discoveryFactors(intermediate);
    // Checked as organizations.create checks its input; a refusal rolls back everything, the intermediate session stays unspent.
    // Left out (or "", as the frontend SDKs send an option left out), the name and slug come from the address.
    const named = { ...input, organizationName: emptyAsAbsent(input.organizationName) ?? defaultOrganizationName(emailAddress), organizationSlug: emptyAsAbsent(input.organizationSlug) };
    const draft = draftOrganization(named, { ids: this.#ids, clock: this.#clock });
    const organization = await insertOrganizationDraft(tx, { audit: this.#audit }, context, draft);
    const { primaryRequired } = entryRequirements(organization, null, emailAddress, authenticationFactors);
    const signedIn = primaryRequired === null;
    const at = toTimestamp(this.#clock.now());
    const member = newMember({
      memberId: this.#ids.next('member'),
      organization,
      emailAddress,
      status: signedIn ? 'active' : 'pending',
      at,
      overrides: { emailAddressVerified: signedIn, assignedRoles: [STYTCH_ADMIN] },
    });
    await tx.members.insertMember(member);
    await this.#audit.record(tx.audit, context, {
      type: 'member.created',
      organizationId: organization.organizationId,
      memberId: member.memberId,
      occurredAt: at,
      details: { status: member.status, roles: member.assignedRoles, by: 'discovery_organization_create' },
    });
    await this.#audit.record(tx.audit, context, {
      type: 'discovery.organization_created',
      organizationId: organization.organizationId,
      memberId: member.memberId,
      occurredAt: at,
      details: { intermediate_session_id: intermediate.intermediateSessionId, email_address: emailAddress, organization_slug: organization.organizationSlug },
    });
    return {
      member,
      organization,
      carriedFactors: authenticationFactors.filter(isEmailProof).map((factor) => proofFor(factor, this.#ids.environment, member)),
      primaryRequired,
      signInMethod: METHOD,
      // One organization per intermediate session, whether or not its creator can have a session yet.
      spendsIntermediateSession: true,
    };
  }
}

/** Both exchanges require the token, so the pipeline has always found it (or refused the call) before the verifier runs. */
function presentedIntermediate(presented: Presented): IntermediateSession {
  if (presented.intermediateSession === undefined) throw new Error('a discovery exchange runs only with an intermediate session');
  return presented.intermediateSession;
}

function sessionOptions(input: SessionOptions) {
  return {
    intermediateSessionToken: input.intermediateSessionToken,
    sessionDurationMinutes: input.sessionDurationMinutes,
    sessionCustomClaims: input.sessionCustomClaims,
    locale: input.locale,
  };
}

