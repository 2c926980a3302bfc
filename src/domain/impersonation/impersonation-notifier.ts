import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { MailDelivery, OutgoingEmail } from '../mail/outgoing-email.js';
import { effectiveRoles, isAdmin, type Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import type { StorePorts } from '../ports.js';
import { END_LINK_PATH, type ImpersonationEndLinks } from './end-link-service.js';
import type { ImpersonatedSession } from './impersonation.js';
import { maskToWire } from './permission-mask.js';

/**
 * Told once an impersonated session has started (after its transaction committed): emails the
 * member and/or the organization's admins when the organization opted in. Returns at once; sending
 * and its audit record happen in the background.
 */
export interface ImpersonationStartedListener {
  impersonationStarted(context: OperationContext, session: ImpersonatedSession): void;
}

/** Members read per page while looking for an organization's admins. */
const ADMIN_PAGE = 500;

/**
 * The notification emails (docs/impersonation.md, "Notifications and webhooks"). With the
 * organization's `notify_member`, the impersonated member is told who acts as them, why, since and
 * until when and with what restriction, with a link to end it (when UNDERSTUDY_PUBLIC_URL says where
 * this server is reached); with `notify_admins`, every active member holding `stytch_admin` is told
 * the same (without the link), each address once and the member not twice. The link is created and
 * `impersonation.notification_sent` recorded in one transaction; the mail is handed over after it
 * commits (SMTP with retries, or the outbox).
 */
export class ImpersonationNotifier implements ImpersonationStartedListener {
  readonly #store: Transactional<StorePorts>;
  readonly #mail: MailDelivery;
  readonly #endLinks: Pick<ImpersonationEndLinks, 'createIn'>;
  readonly #audit: AuditRecorder;
  readonly #publicUrl: string | undefined;
  readonly #onProblem: (error: unknown) => void;
  readonly #pending = new Set<Promise<void>>();

  constructor(dependencies: {
    store: Transactional<StorePorts>;
    mail: MailDelivery;
    endLinks: Pick<ImpersonationEndLinks, 'createIn'>;
    audit: AuditRecorder;
    /** UNDERSTUDY_PUBLIC_URL, without a trailing slash; no end link without it. */
    publicUrl: string | undefined;
    /** A notification that could not be prepared (the database, most likely); never carries the link. */
    onProblem: (error: unknown) => void;
  }) {
    this.#store = dependencies.store;
    this.#mail = dependencies.mail;
    this.#endLinks = dependencies.endLinks;
    this.#audit = dependencies.audit;
    this.#publicUrl = dependencies.publicUrl;
    this.#onProblem = dependencies.onProblem;
  }

  impersonationStarted(context: OperationContext, session: ImpersonatedSession): void {
    const task = this.#notify(context, session).catch((error: unknown) => this.#onProblem(error));
    this.#pending.add(task);
    void task.finally(() => this.#pending.delete(task));
  }

  /** Resolves once every notification asked for so far is recorded and handed to the mail (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async #notify(context: OperationContext, session: ImpersonatedSession): Promise<void> {
    const policy = await this.#store.impersonation.findPolicy(session.organizationId);
    if (policy === undefined || (!policy.notifyMember && !policy.notifyAdmins)) return;
    const organization = await this.#store.organizations.findOrganization(session.organizationId);
    const member = await this.#store.members.findMemberById(session.memberId);
    if (organization === undefined || member === undefined || member.status === 'deleted') return;
    const toMember = policy.notifyMember;
    const memberAddress = member.emailAddress.toLowerCase();
    const admins = policy.notifyAdmins ? (await this.#admins(organization)).filter((address) => !(toMember && address === memberAddress)) : [];
    if (!toMember && admins.length === 0) return;
    // Understudy sends it, on the redemption's behalf: the same request id, so the trail ties them together.
    const own: OperationContext = { requestId: context.requestId, actor: { type: 'system' } };
    const endLink = await this.#store.transaction(async (tx) => {
      const created = toMember && this.#publicUrl !== undefined ? await this.#endLinks.createIn(tx, session) : undefined;
      await this.#audit.record(tx.audit, own, {
        type: 'impersonation.notification_sent',
        organizationId: session.organizationId,
        memberId: session.memberId,
        impersonatorId: session.impersonatorId,
        // Never the addresses or the link: who was told is the policy's business, the link a secret.
        details: { member_session_id: session.memberSessionId, recipients: admins.length + (toMember ? 1 : 0), to_member: toMember, to_admins: admins.length },
      });
      return created === undefined ? undefined : `${this.#publicUrl}${END_LINK_PATH}?token=${created.token}`;
    });
    const email = (to: string, member?: Member): OutgoingEmail => ({
      template: 'impersonation_started',
      to,
      locale: 'en',
      expiresAt: session.expiresAt,
      organizationName: organization.organizationName,
      organizationId: session.organizationId,
      memberId: session.memberId,
      ...(member === undefined && endLink !== undefined && { link: endLink }),
      impersonation: {
        impersonatorEmailAddress: session.impersonatorEmailAddress,
        delegated: session.kind === 'delegated',
        memberEmailAddress: member?.emailAddress,
        reason: session.reason,
        startedAt: session.startedAt,
        expiresAt: session.expiresAt,
        restrictions: session.permissionMask === null ? null : maskToWire(session.permissionMask),
      },
    });
    if (toMember) this.#mail.deliver(own, email(member.emailAddress));
    for (const address of admins) this.#mail.deliver(own, email(address, member));
  }

  /** The addresses of the organization's active members holding stytch_admin (directly or implicitly), each once. */
  async #admins(organization: Organization): Promise<string[]> {
    const addresses = new Set<string>();
    let after: { createdAt: string; id: string } | null = null;
    for (;;) {
      const { rows } = await this.#store.members.searchMembers(
        [organization.organizationId],
        { operator: 'AND', filters: [{ name: 'statuses', type: 'string[]', value: ['active'] }] },
        { limit: ADMIN_PAGE, after },
      );
      for (const member of rows.slice(0, ADMIN_PAGE)) {
        if (isAdmin(effectiveRoles(member, organization))) addresses.add(member.emailAddress.toLowerCase());
      }
      const last = rows[ADMIN_PAGE - 1];
      if (rows.length <= ADMIN_PAGE || last === undefined) return [...addresses];
      after = { createdAt: last.createdAt, id: last.memberId };
    }
  }
}
