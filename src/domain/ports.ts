import type { SigningKeysStore } from '../crypto/keys/signing-keys-store.js';
import type { AuditStore } from './audit/audit-store.js';
import type { AuditChainStore } from './audit/audit-chain-store.js';
import type { EmailCredentialsStore } from './email-sign-in/email-credentials-store.js';
import type { ImpersonationStore } from './impersonation/impersonation-store.js';
import type { MailOutboxStore } from './mail/mail-outbox-store.js';
import type { MembersStore } from './members/members-store.js';
import type { OperatorsStore } from './operators/operators-store.js';
import type { PasswordsStore } from './passwords/passwords-store.js';
import type { OrganizationsStore } from './organizations/organizations-store.js';
import type { ProjectsStore } from './projects/projects-store.js';
import type { RateLimitsStore } from './rate-limits/rate-limits-store.js';
import type { RedirectUrlsStore } from './redirect-urls/redirect-urls-store.js';
import type { SessionsStore } from './sessions/sessions-store.js';
import type { SmsOutboxStore } from './sms/sms-outbox-store.js';
import type { TotpsStore } from './mfa/totps-store.js';
import type { SmsCodesStore } from './mfa/sms-codes-store.js';
import type { RbacStore } from './rbac/rbac-store.js';
import type { AccessGrantsStore } from './impersonation/access-grant.js';
import type { ImpersonationEndLinksStore } from './impersonation/end-links.js';
import type { WebhooksStore } from './webhooks/webhook.js';
import type { SsoStore } from './sso/sso-store.js';

/**
 * Every capability's storage port, bound to one connection or one transaction: the one list of them
 * (src/storage binds it). A transaction that publishes domain events is typed with all of them, as
 * its subscribers write their own ports in it.
 */
export interface StorePorts {
  readonly projects: ProjectsStore;
  readonly organizations: OrganizationsStore;
  readonly members: MembersStore;
  readonly audit: AuditStore;
  readonly auditChains: AuditChainStore;
  readonly sessions: SessionsStore;
  readonly signingKeys: SigningKeysStore;
  readonly impersonation: ImpersonationStore;
  readonly operators: OperatorsStore;
  readonly rateLimits: RateLimitsStore;
  readonly emailCredentials: EmailCredentialsStore;
  readonly redirectUrls: RedirectUrlsStore;
  readonly mailOutbox: MailOutboxStore;
  readonly smsOutbox: SmsOutboxStore;
  readonly passwords: PasswordsStore;
  readonly totps: TotpsStore;
  readonly smsCodes: SmsCodesStore;
  readonly rbac: RbacStore;
  readonly accessGrants: AccessGrantsStore;
  readonly impersonationEndLinks: ImpersonationEndLinksStore;
  readonly webhooks: WebhooksStore;
  readonly sso: SsoStore;
}
