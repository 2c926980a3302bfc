import { createOpaqueToken, findByOpaqueToken } from '../../crypto/opaque-token.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { StorePorts } from '../ports.js';
import type { ImpersonationEndLink } from './end-links.js';
import { impersonationError } from './errors.js';
import type { ImpersonatedSession } from './impersonation.js';
import type { ImpersonationEndings } from './impersonation-endings.js';

/** Where the notification email's link leads: GET shows what will end, POST ends it. */
export const END_LINK_PATH = '/impersonation/end';

/** What the confirmation page shows: the impersonation the link ends. */
export interface EndLinkView {
  readonly link: ImpersonationEndLink;
  readonly session: ImpersonatedSession;
}

/**
 * The impersonated member's way to end an impersonation of them, from the notification email
 * (docs/impersonation.md, "Notifications and webhooks"). The link carries a single-use token (192
 * random bits, stored as a lookup id and digest) that works until the session's own expiry. Opening
 * it changes nothing (mail scanners follow links); confirming ends the session and uses the link up
 * in one transaction, where one conditional UPDATE decides between racing confirmations.
 */
export class ImpersonationEndLinks {
  readonly #store: Transactional<StorePorts>;
  readonly #endings: Pick<ImpersonationEndings, 'revokeSessionsIn'>;
  readonly #audit: AuditRecorder;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;

  constructor(dependencies: {
    store: Transactional<StorePorts>;
    endings: Pick<ImpersonationEndings, 'revokeSessionsIn'>;
    audit: AuditRecorder;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
  }) {
    this.#store = dependencies.store;
    this.#endings = dependencies.endings;
    this.#audit = dependencies.audit;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
  }

  /** Creates the session's link inside the caller's transaction; returns the token (only ever put in the email). */
  async createIn(tx: Pick<StorePorts, 'impersonationEndLinks'>, session: ImpersonatedSession): Promise<{ link: ImpersonationEndLink; token: string }> {
    const secret = createOpaqueToken(this.#random);
    const link: ImpersonationEndLink = {
      linkId: this.#ids.next('impersonation-end-link'),
      memberSessionId: session.memberSessionId,
      organizationId: session.organizationId,
      memberId: session.memberId,
      createdAt: toTimestamp(this.#clock.now()),
      expiresAt: session.expiresAt,
      usedAt: null,
    };
    await tx.impersonationEndLinks.insertEndLink(link, { lookupId: secret.lookupId, digest: secret.digest });
    return { link, token: secret.token };
  }

  /** The impersonation an unused, unexpired link would end, while it goes on; otherwise `invalid_impersonation_end_link`. */
  async describe(token: string | undefined): Promise<EndLinkView> {
    const link = await this.#find(this.#store, token);
    const session = await this.#store.impersonation.findImpersonatedSession(link.memberSessionId);
    if (session === undefined || !isLive(session, toTimestamp(this.#clock.now()))) throw invalidLink();
    return { link, session };
  }

  /**
   * Ends the impersonated session (its member session revoked, `why: ended_by_member`, as every
   * revocation is recorded) and uses the link up, in one transaction with the
   * `impersonation.ended_by_member` event. A used, expired or unknown link, or one whose
   * impersonation is over, is `invalid_impersonation_end_link` and changes nothing.
   */
  async end(context: OperationContext, token: string | undefined): Promise<ImpersonatedSession> {
    const found = await this.#find(this.#store, token);
    return this.#store.transaction(async (tx) => {
      const at = toTimestamp(this.#clock.now());
      // Decides between racing confirmations: the loser waits for the winner's row lock (PostgreSQL)
      // or its turn (SQLite), then finds used_at set and ends nothing.
      if (!(await tx.impersonationEndLinks.useEndLink(found.linkId, at))) throw invalidLink();
      const [ended] = await this.#endings.revokeSessionsIn(tx, context, { memberSessionId: found.memberSessionId }, 'ended_by_member');
      // Over already (expired, or revoked some other way): the rollback leaves the link as it was.
      if (ended === undefined) throw invalidLink();
      await this.#audit.record(tx.audit, context, {
        type: 'impersonation.ended_by_member',
        organizationId: ended.organizationId,
        memberId: ended.memberId,
        impersonatorId: ended.impersonatorId,
        occurredAt: at,
        details: {
          member_session_id: ended.memberSessionId,
          link_id: found.linkId,
          impersonator_email_address: ended.impersonatorEmailAddress,
          reason: ended.reason,
          started_at: ended.startedAt,
        },
      });
      return ended;
    });
  }

  async #find(store: Pick<StorePorts, 'impersonationEndLinks'>, token: string | undefined): Promise<ImpersonationEndLink> {
    const found = await findByOpaqueToken(
      token,
      (lookupId) => store.impersonationEndLinks.findEndLinkByLookupId(lookupId),
      (entry) => entry.digest,
    );
    const now = toTimestamp(this.#clock.now());
    if (found === undefined || found.link.usedAt !== null || found.link.expiresAt <= now) throw invalidLink();
    return found.link;
  }
}

function isLive(session: ImpersonatedSession, now: string): boolean {
  return session.endedAt === null && session.expiresAt > now;
}

function invalidLink() {
  return impersonationError('invalid_impersonation_end_link');
}
