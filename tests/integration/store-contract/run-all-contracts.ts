import type { StoreFactory } from '../../support/stores.js';
import { describeAuditSearchContract } from './audit-search.contract.js';
import { describeAuditStoreContract } from './audit-store.contract.js';
import { describeAuditChainContract } from './audit-chain.contract.js';
import { describeEmailCredentialsStoreContract } from './email-credentials-store.contract.js';
import { describeImpersonationStoreContract } from './impersonation-store.contract.js';
import { describeMembersStoreContract } from './members-store.contract.js';
import { describeOperatorsStoreContract } from './operators-store.contract.js';
import { describeOrganizationsStoreContract } from './organizations-store.contract.js';
import { describePasswordsStoreContract } from './passwords-store.contract.js';
import { describeProjectsStoreContract } from './projects-store.contract.js';
import { describeRateLimitsStoreContract } from './rate-limits-store.contract.js';
import { describeSessionsStoreContract } from './sessions-store.contract.js';
import { describeSigningKeysStoreContract } from './signing-keys-store.contract.js';
import { describeSmsCodesStoreContract } from './sms-codes-store.contract.js';
import { describeTotpsStoreContract } from './totps-store.contract.js';
import { describeTransactionContract } from './transaction.contract.js';
import { describeWebhooksStoreContract } from './webhooks-store.contract.js';
import { describeImpersonationEndLinksStoreContract } from './impersonation-end-links-store.contract.js';
import { describeAccessGrantsStoreContract } from './access-grants-store.contract.js';
import { describeSsoStoreContract } from './sso-store.contract.js';

/** Every storage port's contract suite, registered against one adapter (style rule 12). */
export function describeAllStoreContracts(factory: StoreFactory): void {
  describeOrganizationsStoreContract(factory);
  describeMembersStoreContract(factory);
  describeAuditStoreContract(factory);
  describeAuditChainContract(factory);
  describeProjectsStoreContract(factory);
  describeTransactionContract(factory);
  describeSessionsStoreContract(factory);
  describeSigningKeysStoreContract(factory);
  describeOperatorsStoreContract(factory);
  describeImpersonationStoreContract(factory);
  describeAuditSearchContract(factory);
  describeRateLimitsStoreContract(factory);
  describeEmailCredentialsStoreContract(factory);
  describePasswordsStoreContract(factory);
  describeTotpsStoreContract(factory);
  describeSmsCodesStoreContract(factory);
  describeWebhooksStoreContract(factory);
  describeImpersonationEndLinksStoreContract(factory);
  describeAccessGrantsStoreContract(factory);
  describeSsoStoreContract(factory);
}
