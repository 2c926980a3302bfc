import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import { requireOrganization } from '../organizations/require-organization.js';
import { retryOnceOnDuplicate, sendTargetFor, type EmailMethod, type SendTarget } from './email-member-rules.js';
import type { EmailSignInPorts } from './email-sign-in-subject.js';
import { isDomainError, type DomainError } from '../common/domain-error.js';
import { emptyAsAbsent } from '../common/optional-text.js';
import type { Organization } from '../organizations/organization.js';
import type { RedirectUrlResolver, RedirectUrlType } from '../redirect-urls/redirect-urls.js';
import type { Member } from '../members/member.js';

/** What a send to an organization's member answers (magic link or code): Stytch's `member_created` beside the member. */
export interface MemberSent {
  readonly member: Member;
  readonly organization: Organization;
  /** The member was created just now by this send (just in time, or by an invitation). */
  readonly memberCreated: boolean;
}

/** A redirect URL resolved before the send's transaction, or the error resolving it gave, thrown only if the send needs that URL. */
export type ResolvedUrl = { readonly url: string } | { readonly error: DomainError };

/**
 * Resolves a redirect URL ahead of the transaction (the list lives in the database, read outside
 * it), keeping a refusal for later: login_or_signup learns which of its two URLs it needs only
 * once it has read the member, and a bad URL of the type it does not use must not refuse it.
 */
export async function resolveAhead(redirectUrls: RedirectUrlResolver, type: RedirectUrlType, given: string | undefined): Promise<ResolvedUrl> {
  try {
    return { url: await redirectUrls.resolve(type, emptyAsAbsent(given)) };
  } catch (error) {
    if (isDomainError(error)) return { error };
    throw error;
  }
}

/** The URL, or its refusal thrown (inside the send's transaction, which then writes nothing). */
export function urlOrThrow(resolved: ResolvedUrl): string {
  if ('error' in resolved) throw resolved.error;
  return resolved.url;
}

/** A login-or-signup send's transaction: its organization, whom it goes to, and the proof issued. */
export interface LoginOrSignupSent<Proof> {
  readonly organization: Organization;
  readonly target: SendTarget;
  readonly proof: Proof;
}

/**
 * The transaction every login-or-signup send shares (magic link or code): the organization (locked
 * shared), whom the message goes to (a new address joining just in time becomes a pending member),
 * then `issue` writes the proof and its audit event. Two sends racing to create the same member:
 * the loser runs again and finds it (retryOnceOnDuplicate).
 */
export function loginOrSignupTransaction<Proof>(
  dependencies: { store: Transactional<EmailSignInPorts>; ids: IdGenerator; clock: Clock; audit: AuditRecorder },
  context: OperationContext,
  request: { readonly organizationId: string; readonly emailAddress: string; readonly method: EmailMethod },
  issue: (tx: EmailSignInPorts, organization: Organization, target: SendTarget) => Promise<Proof>,
): Promise<LoginOrSignupSent<Proof>> {
  const { store, ...rules } = dependencies;
  return retryOnceOnDuplicate(() =>
    store.transaction(async (tx) => {
      const organization = await requireOrganization(tx, request.organizationId, FOR_SHARE);
      const target = await sendTargetFor(tx, rules, context, organization, request.emailAddress, request.method);
      return { organization, target, proof: await issue(tx, organization, target) };
    }),
  );
}
