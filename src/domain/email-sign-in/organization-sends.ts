import { isDomainError, type DomainError } from '../common/domain-error.js';
import type { ReadForUpdate } from '../common/read-for-update.js';
import { organizationError } from '../organizations/errors.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import type { RedirectUrlResolver, RedirectUrlType } from '../redirect-urls/redirect-urls.js';
import type { Member } from '../members/member.js';

/** What a send to an organization's member answers (magic link or code): Stytch's `member_created` beside the member. */
export interface MemberSent {
  readonly member: Member;
  readonly organization: Organization;
  /** The member was created just now by this send (just in time, or by an invitation). */
  readonly memberCreated: boolean;
}

/** The organization a send or sign-in names (by id, slug or external id, as the members API takes it). */
export async function requireOrganization(store: Pick<{ organizations: OrganizationsStore }, 'organizations'>, reference: string, lock?: ReadForUpdate): Promise<Organization> {
  const organization = reference === '' ? undefined : await store.organizations.findOrganization(reference, lock);
  if (organization === undefined) throw organizationError('organization_not_found');
  return organization;
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
    return { url: await redirectUrls.resolve(type, given === '' ? undefined : given) };
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
