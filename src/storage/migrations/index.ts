import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as sessionsAndSigningKeys from './0002-sessions-and-signing-keys.js';
import * as impersonation from './0003-impersonation.js';
import * as operators from './0004-operators.js';
import * as rateLimits from './0005-rate-limits.js';
import * as impersonationTokenBinding from './0006-impersonation-token-binding.js';
import * as auditEventsByOrganization from './0007-audit-events-by-organization.js';
import * as intermediateSessions from './0008-intermediate-sessions.js';
import * as emailSignIn from './0009-email-sign-in.js';
import * as mailOutbox from './0010-mail-outbox.js';
import * as redirectUrls from './0011-redirect-urls.js';
import * as discovery from './0012-discovery.js';
import * as sweepAndLookupIndexes from './0013-sweep-and-lookup-indexes.js';
import * as passwords from './0014-passwords.js';
import * as mfa from './0015-mfa.js';
import * as rbac from './0016-rbac.js';
import * as memberSsoGroups from './0017-member-sso-groups.js';
import * as impersonationTrust from './0018-impersonation-trust.js';
import * as auditChain from './0019-audit-chain.js';
import * as sso from './0020-sso.js';

/**
 * Forward-only, ordered migrations (style rule 14). Add new steps at the end with the next number;
 * never edit a step that has shipped. Kysely's Migrator applies them under its lock (an advisory
 * lock on PostgreSQL), so several servers starting at once apply each step exactly once.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-sessions-and-signing-keys': sessionsAndSigningKeys,
  '0003-impersonation': impersonation,
  '0004-operators': operators,
  '0005-rate-limits': rateLimits,
  '0006-impersonation-token-binding': impersonationTokenBinding,
  '0007-audit-events-by-organization': auditEventsByOrganization,
  '0008-intermediate-sessions': intermediateSessions,
  '0009-email-sign-in': emailSignIn,
  '0010-mail-outbox': mailOutbox,
  '0011-redirect-urls': redirectUrls,
  '0012-discovery': discovery,
  '0013-sweep-and-lookup-indexes': sweepAndLookupIndexes,
  '0014-passwords': passwords,
  '0015-mfa': mfa,
  '0016-rbac': rbac,
  '0017-member-sso-groups': memberSsoGroups,
  '0018-impersonation-trust': impersonationTrust,
  '0019-audit-chain': auditChain,
  '0020-sso': sso,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  },
};
