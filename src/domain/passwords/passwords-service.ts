import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError, type DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { emptyAsAbsent } from '../common/optional-text.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import { checkMethodAllowed, retryOnceOnDuplicate } from '../email-sign-in/email-member-rules.js';
import { checkLocale } from '../email-sign-in/send-checks.js';
import { memberError } from '../members/errors.js';
import { normalizeEmail, type Member } from '../members/member.js';
import type { Organization } from '../organizations/organization.js';
import { requireOrganization } from '../organizations/require-organization.js';
import type { StorePorts } from '../ports.js';
import { rbacError } from '../rbac/errors.js';
import { sessionError } from '../sessions/errors.js';
import { checkSessionDuration, isImpersonated, isLive, mergeCustomClaims, type MemberSession } from '../sessions/session.js';
import type { SessionsService } from '../sessions/sessions-service.js';
import type { AuthOutcome, SessionIssued } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn, SignInOptions } from '../sessions/sign-in/pipeline.js';
import { passwordError } from './errors.js';
import type { MemberPasswords, PasswordProof } from './member-passwords.js';
import type { PasswordHashing } from './password-hashing.js';
import type { MemberMigrated, MemberMigrationInput, PasswordMigration } from './password-migration.js';
import { type AfterConfirm, PasswordSignInRefusal, PasswordVerifier } from './password-verifier.js';
import { PASSWORD_HASH_TYPES, type Argon2Config, type PasswordHash, type PasswordHashConfig, type PasswordHashType, type Pbkdf2Config, type SaltedDigestConfig, type ScryptConfig } from './stored-password.js';

/** A session must have proved a factor this recently to set a new password with it (Stytch's rule). */
const SESSION_RESET_WINDOW_MILLISECONDS = 5 * 60_000;

export interface PasswordAuthenticateInput extends SignInOptions {
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly password: string;
  readonly locale?: string | undefined;
}

export interface ExistingPasswordResetInput extends Omit<SignInOptions, 'intermediateSessionToken'> {
  readonly organizationId: string;
  readonly emailAddress: string;
  readonly existingPassword: string;
  readonly newPassword: string;
  readonly locale?: string | undefined;
}

export interface SessionResetInput {
  readonly organizationId: string;
  readonly password: string;
  readonly sessionToken?: string | undefined;
  readonly sessionJwt?: string | undefined;
  readonly sessionDurationMinutes?: number | undefined;
  readonly sessionCustomClaims?: Record<string, unknown> | undefined;
  readonly locale?: string | undefined;
}

/** The hash configurations passwords.migrate takes, one field per kind, as given. */
export interface MigrationHashConfigs {
  readonly md5Config?: SaltedDigestConfig | undefined;
  readonly sha1Config?: SaltedDigestConfig | undefined;
  readonly sha512Config?: SaltedDigestConfig | undefined;
  readonly argon2Config?: Argon2Config | undefined;
  readonly scryptConfig?: ScryptConfig | undefined;
  readonly pbkdf2Config?: Omit<Pbkdf2Config, 'algorithm'> & { readonly algorithm: string } | undefined;
}

export interface PasswordMigrateInput extends Omit<MemberMigrationInput, 'hash'>, MigrationHashConfigs {
  readonly hash: string;
  readonly hashType: string;
  /** Accepted for the SDK's sake: it concerns sessions from SSO connections, which Understudy has none of. */
  readonly preserveExistingSessions?: boolean | undefined;
}

export interface RequireResetInput {
  readonly emailAddress: string;
  readonly organizationId?: string | undefined;
  readonly memberId?: string | undefined;
}

export interface MemberWithOrganization {
  readonly member: Member;
  readonly organization: Organization;
}

/** passwords.email.requireReset's answer: the member when exactly one was concerned. */
export type ResetRequired = MemberWithOrganization | { readonly members: number };

type PasswordsStore = Transactional<StorePorts>;

/**
 * Organization-scoped password operations: sign-in (through the sign-in pipeline), migration from
 * another system, resets by the existing password or by a recent session, deleting a member's
 * password and requiring a reset. Passwords are checked and hashed outside transactions
 * (MemberPasswords); each change is one short transaction with its audit events.
 */
export class PasswordsService {
  readonly #store: PasswordsStore;
  readonly #signIn: SignIn<StorePorts>;
  readonly #passwords: MemberPasswords;
  readonly #hashing: Pick<PasswordHashing, 'checkMigratedHash'>;
  readonly #migration: PasswordMigration;
  readonly #sessions: Pick<SessionsService, 'resolveLive' | 'issueJwt' | 'revokeSessionsIn' | 'revokeMemberSessionsIn'>;
  readonly #clock: Clock;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: PasswordsStore;
    signIn: SignIn<StorePorts>;
    passwords: MemberPasswords;
    hashing: Pick<PasswordHashing, 'checkMigratedHash'>;
    migration: PasswordMigration;
    sessions: Pick<SessionsService, 'resolveLive' | 'issueJwt' | 'revokeSessionsIn' | 'revokeMemberSessionsIn'>;
    clock: Clock;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#passwords = dependencies.passwords;
    this.#hashing = dependencies.hashing;
    this.#migration = dependencies.migration;
    this.#sessions = dependencies.sessions;
    this.#clock = dependencies.clock;
    this.#audit = dependencies.audit;
  }

  /**
   * passwords.authenticate: the password checked (with the user lock) before the pipeline, which
   * then decides between a session and an intermediate session (MFA). The email address is not
   * verified by it. A refusal after the password was found right is audited here.
   */
  async authenticate(context: OperationContext, input: PasswordAuthenticateInput): Promise<AuthOutcome> {
    checkLocale(input.locale);
    const organization = await requireOrganization(this.#store, input.organizationId);
    return this.#signInByPassword(context, organization, { emailAddress: normalizeEmail(input.emailAddress), password: input.password, method: 'password' }, input);
  }

  /**
   * passwords.existingPassword.reset: the existing password proved as for a sign-in (same lock),
   * the new one judged by the policy and hashed, then one sign-in whose transaction also writes
   * the new password and ends every other session of the member. A session presented (token or
   * JWT) of the same member is kept and gets the password factor; any other session of theirs is
   * revoked. The new password may equal the old one: Stytch does not refuse that, and the member
   * proved it anyway.
   */
  async resetExistingPassword(context: OperationContext, input: ExistingPasswordResetInput): Promise<AuthOutcome> {
    checkLocale(input.locale);
    const organization = await requireOrganization(this.#store, input.organizationId);
    const credentials = { emailAddress: normalizeEmail(input.emailAddress), password: input.existingPassword, method: 'existing_password_reset' };
    let hash: PasswordHash | undefined;
    let kept: string | undefined;
    return this.#signInByPassword(context, organization, credentials, input, async (proof) => {
      // Once, even when the sign-in is proved again (a concurrent rehash): hashing is the costly part.
      hash ??= await this.#passwords.hashNewPassword(input.newPassword, [proof.member.emailAddress, proof.member.name]);
      kept ??= await this.#presentedSessionId(input);
      const newHash = hash;
      const keptId = kept;
      return async (tx, context, member) => {
        const saved = await this.#passwords.savePassword(tx, context, member, newHash, 'existing_password_reset', { alsoChanged: (other) => this.#endAllSessions(tx, context, other) });
        if (saved === undefined) throw new PasswordSignInRefusal(memberError('member_not_found'), 'member_deleted');
        await this.#endOtherSessions(tx, context, saved, keptId, 'existing_password_reset');
        return saved;
      };
    });
  }

  /**
   * passwords.sessions.reset: a live session of the organization that proved a factor in the last
   * five minutes sets the member's password; every other session of theirs ends, this one stays
   * (same token) with `session_duration_minutes` and `session_custom_claims` applied, and its JWT is
   * signed anew. No factor is added: setting a password proves nothing. An impersonated session is
   * refused: an operator acting as the member must not take over their credentials.
   */
  async resetBySession(context: OperationContext, input: SessionResetInput): Promise<SessionIssued> {
    checkLocale(input.locale);
    if (input.sessionToken === undefined && input.sessionJwt === undefined) throw sessionError('no_session_arguments');
    if (input.sessionToken !== undefined && input.sessionJwt !== undefined) throw sessionError('too_many_session_arguments');
    const minutes = input.sessionDurationMinutes === undefined ? undefined : checkSessionDuration(input.sessionDurationMinutes);
    if (input.sessionCustomClaims !== undefined) mergeCustomClaims({}, input.sessionCustomClaims);
    const organization = await requireOrganization(this.#store, input.organizationId);
    const presented = await this.#sessions.resolveLive(input);
    if (presented.session.organizationId !== organization.organizationId) {
      throw rbacError('session_authorization_tenancy_error', "organization_id is not the session's organization.");
    }
    checkSessionMayReset(presented.session, this.#clock.now());
    checkMethodAllowed(organization, presented.member, 'password');
    const hash = await this.#passwords.hashNewPassword(input.password, [presented.member.emailAddress, presented.member.name]);
    const record = await this.#store.transaction(async (tx) => {
      const locked = await tx.organizations.findOrganization(organization.organizationId, FOR_SHARE);
      const member = locked === undefined ? undefined : await tx.members.findMemberById(presented.member.memberId, FOR_UPDATE);
      if (locked === undefined || member === undefined || member.status === 'deleted') throw sessionError('session_not_found');
      checkMethodAllowed(locked, member, 'password');
      const saved = await this.#passwords.savePassword(tx, context, member, hash, 'session_reset', { alsoChanged: (other) => this.#endAllSessions(tx, context, other) });
      if (saved === undefined) throw sessionError('session_not_found');
      const at = toTimestamp(this.#clock.now());
      // As stored now: a revocation or another reset that committed meanwhile wins.
      const current = await tx.sessions.findSessionForUpdate(presented.session.memberSessionId);
      if (current === undefined || !isLive(current, at)) throw sessionError('session_not_found');
      checkSessionMayReset(current, this.#clock.now());
      await this.#endOtherSessions(tx, context, saved, current.memberSessionId, 'session_reset');
      const session = await this.#applySessionChanges(tx, context, current, { minutes, customClaims: input.sessionCustomClaims, at });
      return { session, member: saved, organization: locked };
    });
    return { memberAuthenticated: true, ...record, sessionToken: input.sessionToken ?? '', sessionJwt: await this.#sessions.issueJwt(record) };
  }

  /**
   * passwords.migrate: the hash checked (cheap, no hashing), then the member found or created and
   * their password written in one transaction (PasswordMigration). `preserve_existing_sessions`
   * concerns SSO sessions in Stytch; with no SSO here, a migration ends no session.
   */
  async migrate(context: OperationContext, input: PasswordMigrateInput): Promise<MemberMigrated> {
    const hashType = checkHashType(input.hashType);
    const hash = this.#hashing.checkMigratedHash(hashType, input.hash, hashConfigOf(hashType, input));
    const migration: MemberMigrationInput = {
      organizationId: input.organizationId,
      emailAddress: input.emailAddress,
      hash,
      name: input.name,
      trustedMetadata: input.trustedMetadata,
      untrustedMetadata: input.untrustedMetadata,
      roles: input.roles,
      mfaPhoneNumber: input.mfaPhoneNumber,
      setPhoneNumberVerified: input.setPhoneNumberVerified,
      externalId: input.externalId,
    };
    return retryOnceOnDuplicate(() => this.#store.transaction((tx) => this.#migration.migrateMember(tx, context, migration)));
  }

  /** organizations.members.deletePassword: by `member_password_id`, which must be of this organization. */
  async deletePassword(context: OperationContext, organizationReference: string, memberPasswordId: string): Promise<MemberWithOrganization> {
    return this.#store.transaction(async (tx) => {
      const organization = await requireOrganization(tx, organizationReference, FOR_SHARE);
      const found = memberPasswordId === '' ? undefined : await tx.passwords.findPasswordById(memberPasswordId);
      if (found === undefined || found.organizationId !== organization.organizationId) throw passwordError('member_password_not_found');
      const member = await tx.members.findMemberById(found.memberId, FOR_UPDATE);
      if (member === undefined || member.status === 'deleted' || member.organizationId !== organization.organizationId) throw passwordError('member_password_not_found');
      // Locked now (member first, the lock order): still this password, not one deleted meanwhile.
      const current = await tx.passwords.findPassword(member.memberId, FOR_UPDATE);
      if (current?.memberPasswordId !== memberPasswordId) throw passwordError('member_password_not_found');
      await this.#passwords.deletePassword(tx, context, member, 'organizations.members.deletePassword');
      const updated = await tx.members.findMemberById(member.memberId);
      if (updated === undefined) throw passwordError('member_password_not_found');
      return { member: updated, organization };
    });
  }

  /**
   * passwords.email.requireReset: deletes the password of the member with this address, who must
   * then reset it by email. With `organization_id` and/or `member_id` (which must have the address):
   * that member. Without either, when passwords are cross-organization: every live member with the
   * address. With cross-organization passwords the address has one password, so it is deleted for
   * every member with the address either way (the member named is the one answered). A member
   * without a password is left as is (nothing to require).
   */
  async requireReset(context: OperationContext, input: RequireResetInput): Promise<ResetRequired> {
    const emailAddress = normalizeEmail(input.emailAddress);
    const organizationId = emptyAsAbsent(input.organizationId);
    const memberId = emptyAsAbsent(input.memberId);
    const crossOrg = this.#passwords.settings.crossOrgPasswordsEnabled;
    if (organizationId === undefined && memberId === undefined && !crossOrg) {
      throw passwordError('cross_org_passwords_not_enabled', 'Without cross-organization passwords, passwords.email.requireReset needs organization_id or member_id.');
    }
    return this.#store.transaction(async (tx) => {
      const named = organizationId === undefined && memberId === undefined ? undefined : await this.#namedMember(tx, emailAddress, organizationId, memberId);
      const concerned = crossOrg ? await tx.members.findLiveMembersByEmail(emailAddress) : named === undefined ? [] : [named];
      const deleted = await this.#deletePasswords(tx, context, concerned, emailAddress);
      if (named !== undefined) {
        const answer = deleted.find((entry) => entry.member.memberId === named.memberId);
        if (answer === undefined) throw memberError('member_not_found');
        return answer;
      }
      if (deleted.length === 0) throw memberError('member_not_found');
      const [only] = deleted;
      return deleted.length === 1 && only !== undefined ? only : { members: deleted.length };
    });
  }

  /** The live member with this address named by organization and/or member id (or external id), unlocked; member_not_found otherwise. */
  async #namedMember(tx: StorePorts, emailAddress: string, organizationId: string | undefined, memberId: string | undefined): Promise<Member> {
    const byId = organizationId === undefined && memberId !== undefined ? await tx.members.findMemberById(memberId) : undefined;
    // Only a member id, naming nobody: the member is what was not found.
    if (organizationId === undefined && byId === undefined) throw memberError('member_not_found');
    const organization = await requireOrganization(tx, organizationId ?? byId?.organizationId ?? '');
    const found =
      memberId === undefined
        ? await tx.members.findMemberByEmail(organization.organizationId, emailAddress)
        : await tx.members.findMember(organization.organizationId, memberId);
    if (found === undefined || found.status === 'deleted' || found.emailAddress !== emailAddress) throw memberError('member_not_found');
    return found;
  }

  /**
   * Deletes the passwords of these members, locking every organization first and then the members,
   * each in one order (the lock order); a member gone or changed meanwhile is skipped. Returns the
   * members as now stored.
   */
  async #deletePasswords(tx: StorePorts, context: OperationContext, members: readonly Member[], emailAddress: string): Promise<MemberWithOrganization[]> {
    const organizations = new Map<string, Organization>();
    for (const id of [...new Set(members.map((member) => member.organizationId))].sort()) {
      const organization = await tx.organizations.findOrganization(id, FOR_SHARE);
      if (organization !== undefined) organizations.set(id, organization);
    }
    const deleted: MemberWithOrganization[] = [];
    for (const { memberId } of [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
      const member = await tx.members.findMemberById(memberId, FOR_UPDATE);
      const organization = member === undefined ? undefined : organizations.get(member.organizationId);
      if (member === undefined || organization === undefined || member.status === 'deleted' || member.emailAddress !== emailAddress) continue;
      await this.#passwords.deletePassword(tx, context, member, 'passwords.email.requireReset');
      deleted.push({ member: (await tx.members.findMemberById(memberId)) ?? member, organization });
    }
    return deleted;
  }

  /** The id of the session presented with a sign-in, to keep it when the others end; undefined when none. */
  async #presentedSessionId(options: SignInOptions): Promise<string | undefined> {
    if (options.sessionToken === undefined && options.sessionJwt === undefined) return undefined;
    if (options.sessionToken !== undefined && options.sessionJwt !== undefined) throw sessionError('too_many_session_arguments');
    return (await this.#sessions.resolveLive(options)).session.memberSessionId;
  }

  /**
   * Revokes the member's live sessions but `kept` inside the caller's transaction (the member row
   * is locked, so no sign-in of theirs adds one meanwhile), with one `member.sessions_reset` event.
   */
  async #endOtherSessions(tx: StorePorts, context: OperationContext, member: Member, kept: string | undefined, how: string): Promise<void> {
    const at = toTimestamp(this.#clock.now());
    const live = await tx.sessions.listLiveSessions(member.organizationId, member.memberId, at);
    const ending = live.filter((session) => session.memberSessionId !== kept);
    const revoked = await this.#sessions.revokeSessionsIn(tx, context, ending);
    await this.#audit.record(tx.audit, context, {
      type: 'member.sessions_reset',
      organizationId: member.organizationId,
      memberId: member.memberId,
      occurredAt: at,
      details: { how, revoked_member_session_ids: revoked, ...(kept !== undefined && { kept_member_session_id: kept }) },
    });
  }

  /** Every session of the address's member in another organization ends with the password they shared (cross-organization passwords). */
  async #endAllSessions(tx: StorePorts, context: OperationContext, member: Member): Promise<void> {
    await this.#sessions.revokeMemberSessionsIn(tx, context, member);
  }

  async #applySessionChanges(
    tx: StorePorts,
    context: OperationContext,
    current: MemberSession,
    change: { minutes: number | undefined; customClaims: Record<string, unknown> | undefined; at: string },
  ): Promise<MemberSession> {
    const session: MemberSession = {
      ...current,
      expiresAt: change.minutes === undefined ? current.expiresAt : toTimestamp(new Date(Date.parse(change.at) + change.minutes * 60_000)),
      customClaims: change.customClaims === undefined ? current.customClaims : mergeCustomClaims(current.customClaims, change.customClaims),
      lastAccessedAt: change.at,
    };
    await tx.sessions.updateSession(session);
    if (change.minutes !== undefined || change.customClaims !== undefined) {
      await this.#audit.record(tx.audit, context, {
        type: 'session.updated',
        organizationId: session.organizationId,
        memberId: session.memberId,
        occurredAt: change.at,
        details: { member_session_id: session.memberSessionId, expires_at: session.expiresAt },
      });
    }
    return session;
  }

  /**
   * The password proved outside any transaction, then the sign-in through the pipeline (with what
   * `prepare` adds to its transaction). A refusal after the password was found right (inside the
   * pipeline, or by its checks of the session options) rolled everything back, and is recorded as
   * `member.sign_in_refused` in a transaction of its own before it is answered.
   *
   * A concurrent sign-in that replaced a migrated or outdated hash by its rehash between this proof
   * and its confirmation makes the confirmation fail: the password is then proved once more, against
   * the hash now stored, which a rehash of the same password matches and a reset does not.
   */
  async #signInByPassword(
    context: OperationContext,
    organization: Organization,
    credentials: { readonly emailAddress: string; readonly password: string; readonly method: string },
    options: SignInOptions,
    prepare: (proof: PasswordProof) => Promise<AfterConfirm | undefined> = async () => undefined,
  ): Promise<AuthOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      const proof = await this.#passwords.prove(context, organization, credentials.emailAddress, credentials.password, credentials.method);
      try {
        const verifier = new PasswordVerifier({ passwords: this.#passwords, clock: this.#clock }, { proof, afterConfirm: await prepare(proof) });
        return await this.#signIn.signIn(context, verifier, options);
      } catch (error) {
        if (error instanceof PasswordSignInRefusal && error.why === 'password_changed' && attempt === 1) continue;
        const refusal = error instanceof PasswordSignInRefusal ? error : isDomainError(error) ? new PasswordSignInRefusal(error, error.code) : undefined;
        if (refusal === undefined) throw error;
        // The password was right: a refusal whose answer shows it (a weak new password, bad session
        // options) forgets the attempt's count; one that answers like a wrong password keeps it.
        if (refusal.refusal.code !== 'unauthorized_credentials') await this.#passwords.forgive(proof);
        await this.#recordRefusal(context, proof.member, credentials.method, refusal.refusal, refusal.why);
        throw refusal.refusal;
      }
    }
  }

  async #recordRefusal(context: OperationContext, member: Member, method: string, error: DomainError, why: string): Promise<void> {
    await this.#store.transaction((tx) =>
      this.#audit.record(tx.audit, context, {
        type: 'member.sign_in_refused',
        organizationId: member.organizationId,
        memberId: member.memberId,
        details: { method, why, error_type: error.code },
      }),
    );
  }
}

/** A session may set a password when one of its factors was proved in the last five minutes. */
function checkSessionMayReset(session: MemberSession, now: Date): void {
  if (isImpersonated(session)) throw sessionError('session_not_mutable_impersonated', "An impersonated session cannot reset the member's password.");
  const latest = Math.max(...session.authenticationFactors.map((factor) => Date.parse(factor.lastAuthenticatedAt)).filter(Number.isFinite), Number.NEGATIVE_INFINITY);
  if (now.getTime() - latest > SESSION_RESET_WINDOW_MILLISECONDS) throw passwordError('session_too_old_to_reset_password');
}

function checkHashType(hashType: string): PasswordHashType {
  if (!(PASSWORD_HASH_TYPES as readonly string[]).includes(hashType)) throw passwordError('invalid_hash_type');
  return hashType as PasswordHashType;
}

/** Which hash types each configuration field is for. */
const CONFIG_FIELDS: readonly { readonly field: keyof MigrationHashConfigs; readonly wire: string; readonly types: readonly PasswordHashType[] }[] = [
  { field: 'md5Config', wire: 'md_5_config', types: ['md_5'] },
  { field: 'sha1Config', wire: 'sha_1_config', types: ['sha_1'] },
  { field: 'sha512Config', wire: 'sha_512_config', types: ['sha_512'] },
  { field: 'argon2Config', wire: 'argon_2_config', types: ['argon_2i', 'argon_2id'] },
  { field: 'scryptConfig', wire: 'scrypt_config', types: ['scrypt'] },
  { field: 'pbkdf2Config', wire: 'pbkdf_2_config', types: ['pbkdf_2'] },
];

/**
 * The one configuration given, as the hash family takes it; null when none. A configuration for
 * another hash type is refused rather than ignored, so a migration script's mistake shows at once
 * instead of as members who cannot sign in.
 */
function hashConfigOf(hashType: PasswordHashType, configs: MigrationHashConfigs): PasswordHashConfig | null {
  const given = CONFIG_FIELDS.filter(({ field }) => configs[field] !== undefined && configs[field] !== null);
  const wrong = given.find(({ types }) => !types.includes(hashType));
  if (wrong !== undefined) throw passwordError('invalid_hash_config', `${wrong.wire} does not apply to hash_type ${hashType}.`);
  const { md5Config, sha1Config, sha512Config, argon2Config, scryptConfig, pbkdf2Config } = configs;
  const salted = md5Config ?? sha1Config ?? sha512Config;
  if (salted !== undefined) return { type: 'salted_digest', config: salted };
  if (argon2Config !== undefined) return { type: 'argon_2', config: argon2Config };
  if (scryptConfig !== undefined) return { type: 'scrypt', config: scryptConfig };
  if (pbkdf2Config !== undefined) return { type: 'pbkdf_2', config: pbkdf2Config as Pbkdf2Config };
  return null;
}
