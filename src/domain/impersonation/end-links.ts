/**
 * A single-use link, sent in the notification email, with which the impersonated member ends the
 * impersonation (GET shows a confirmation page, POST ends it). Stored only as a lookup id and digest.
 */
export interface ImpersonationEndLink {
  readonly linkId: string;
  readonly memberSessionId: string;
  readonly organizationId: string;
  readonly memberId: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt: string | null;
}

export interface ImpersonationEndLinksStore {
  insertEndLink(link: ImpersonationEndLink, secret: { lookupId: string; digest: Buffer }): Promise<void>;
  findEndLinkByLookupId(lookupId: string): Promise<{ link: ImpersonationEndLink; digest: Buffer } | undefined>;
  /** Marks it used if unused and unexpired at `at`, in one conditional UPDATE; whether this call did it. */
  useEndLink(linkId: string, at: string): Promise<boolean>;
}
