import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_SHARE, FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import type { Member } from '../members/member.js';
import type { MembersStore } from '../members/members-store.js';
import type { Organization } from '../organizations/organization.js';
import type { OrganizationsStore } from '../organizations/organizations-store.js';
import { checkMethodAllowed } from '../email-sign-in/email-member-rules.js';
import type { RateLimiter } from '../rate-limits/rate-limiter.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { passwordError, UserLockedError, wrongPasswordError } from './errors.js';
import type { HashingAdmission, PasswordCheck, PasswordHashing } from './password-hashing.js';
import type { PasswordSettings } from './password-settings.js';
import type { PasswordStrength, PasswordStrengthChecker } from './password-strength.js';
import type { PasswordsStore } from './passwords-store.js';
import type { PasswordHash, StoredPassword } from './stored-password.js';

/** What checking and writing members' passwords reads and writes. */
export type PasswordPorts = { organizations: OrganizationsStore; members: MembersStore; passwords: PasswordsStore; audit: AuditStore };

/**
 * A password found right, outside any transaction (hashing is slow, and a SQLite transaction holds
 * the whole database's write lock): the member, the hash it matched, and that hash's argon2id
 * replacement when it was migrated or has old parameters. `confirm` re-checks it inside the
 * sign-in's transaction.
 */
export interface PasswordProof {
  readonly member: Member;
  readonly matched: StoredPassword;
  readonly rehash: PasswordHash | undefined;
}

/**
 * The organization id the failures and lock of an address are kept under when they count across
 * organizations (passwords shared across organizations: discovery's password sign-in).
 */
export const ACROSS_ORGANIZATIONS = '';

/** Migrated hash types that check far faster than argon2id, padded by a decoy verification. */
const CHEAP_HASH_TYPES: ReadonlySet<string> = new Set(['md_5', 'sha_1', 'sha_512', 'phpass']);

/** Hours after their last attempt that an address's failures are forgotten (once its lock ended). */
export const STALE_FAILURES_HOURS = 24;

/** The factor a password adds to a session: `password`, delivered by `knowledge`, no sub-object. */
export function passwordFactor(at: string): AuthenticationFactor {
  return { type: 'password', deliveryMethod: 'knowledge', createdAt: at, lastAuthenticatedAt: at, updatedAt: at };
}

/**
 * Members' passwords, shared by every password operation: checking one (with the user lock and the
 * project's checks on authentication), judging a new one by the project's policy, and writing one.
 *
 * The user lock counts consecutive wrong passwords per organization and address, whether or not a
 * member has the address, and a wrong password, an unknown address and an address without a
 * password get the same answer after the same work (one hash verification), so neither the answer,
 * its timing nor a lock tells a caller which addresses are members.
 */
export class MemberPasswords {
  readonly #store: Transactional<PasswordPorts>;
  readonly #hashing: PasswordHashing;
  readonly #strength: PasswordStrengthChecker;
  readonly #settings: PasswordSettings;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #rateLimits: RateLimiter;

  constructor(dependencies: {
    store: Transactional<PasswordPorts>;
    hashing: PasswordHashing;
    strength: PasswordStrengthChecker;
    settings: PasswordSettings;
    clock: Clock;
    ids: IdGenerator;
    audit: AuditRecorder;
    rateLimits: RateLimiter;
  }) {
    this.#store = dependencies.store;
    this.#hashing = dependencies.hashing;
    this.#strength = dependencies.strength;
    this.#settings = dependencies.settings;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#rateLimits = dependencies.rateLimits;
  }

  get settings(): PasswordSettings {
    return this.#settings;
  }

  /**
   * Forgets the failures of addresses nobody has tried for a day and whose lock (if any) ended
   * (the server's expiry sweeper calls it): wrong passwords aimed at addresses that are nobody's
   * would otherwise pile up for ever. A count older than a day is no longer "consecutive" in any
   * sense a user would recognise. Returns how many were forgotten.
   */
  async forgetStaleFailures(): Promise<number> {
    return this.#store.passwords.deleteStaleFailures(toTimestamp(new Date(this.#clock.now().getTime() - STALE_FAILURES_HOURS * 3_600_000)));
  }

  /**
   * Checks `password` for `emailAddress` (canonical) in `organization`, outside any transaction.
   * Refused: an organization whose `auth_methods` exclude passwords (403, before any hashing); a
   * locked address (`user_lock_limit_reached`); a wrong password, an unknown address or one without
   * a password (`unauthorized_credentials`, counted toward the lock, audited); a right password the
   * project's checks on authentication reject (`member_reset_password`: breached, or below the
   * policy with validate-on-authentication). Every attempt is counted before it is checked (#admit).
   */
  async prove(context: OperationContext, organization: Organization, emailAddress: string, password: string, method: string): Promise<PasswordProof> {
    await this.#rateLimits.clientLimit('password_attempts_per_client')(context);
    const scope = { organization, emailAddress, method };
    const member = await this.#store.members.findMemberByEmail(organization.organizationId, emailAddress);
    await this.#refuseIfRestricted(context, scope, member);
    // A place in the hashing pool before the attempt is counted: a full pool refuses it uncounted,
    // and once counted none of its hashes is refused, so a flood never locks out a member who retries.
    const admission = this.#hashing.admit();
    try {
      await this.#admit(context, scope, member);
      const stored = member === undefined || member.memberPasswordId === '' ? undefined : await this.#store.passwords.findPassword(member.memberId);
      if (member === undefined || stored === undefined) {
        await this.#hashing.verifyNothing(password, admission);
        return this.#fail(context, scope, member, member === undefined ? 'unknown_address' : 'no_password');
      }
      const check = await this.#verifyPadded(stored, password, admission);
      if (!check.matches) return this.#fail(context, scope, member, 'wrong_password');
      await this.#checkOnAuthentication(context, scope, member, password);
      await this.#forgetOnMatch(scope);
      return { member, matched: stored, rehash: check.needsRehash ? await this.#hashing.hash(password, admission) : undefined };
    } finally {
      admission.release();
    }
  }

  /**
   * `prove` for an address in no one organization (passwords shared across organizations:
   * discovery). Its password is the most recently set of its live members' (a reset by discovery
   * gives them all the same one), and its failures and lock count across organizations. The proof
   * names the member whose password matched; `confirmAcrossOrganizations` re-checks it.
   */
  async proveAcrossOrganizations(context: OperationContext, emailAddress: string, password: string, method: string): Promise<PasswordProof> {
    await this.#rateLimits.clientLimit('password_attempts_per_client')(context);
    const scope: FailureScope = { organization: null, emailAddress, method };
    const admission = this.#hashing.admit();
    try {
      await this.#admit(context, scope, undefined);
      const members = await this.#store.members.findLiveMembersByEmail(emailAddress);
      const newest = await this.#newestPassword(members);
      if (newest === undefined) {
        await this.#hashing.verifyNothing(password, admission);
        return this.#fail(context, scope, undefined, members.length === 0 ? 'unknown_address' : 'no_password');
      }
      const check = await this.#verifyPadded(newest.matched, password, admission);
      if (!check.matches) return this.#fail(context, scope, undefined, 'wrong_password');
      await this.#checkOnAuthentication(context, scope, newest.member, password);
      await this.#forgetOnMatch(scope);
      return { ...newest, rehash: check.needsRehash ? await this.#hashing.hash(password, admission) : undefined };
    } finally {
      admission.release();
    }
  }

  /**
   * `confirm` for a proof of `proveAcrossOrganizations`, inside the transaction that acts on it: the
   * member is live with the address and the password proved is still theirs, the address is not
   * locked; its failures are forgotten and an outdated hash replaced.
   */
  async confirmAcrossOrganizations(tx: PasswordPorts, proof: PasswordProof): Promise<void> {
    const at = toTimestamp(this.#clock.now());
    const { memberId, emailAddress } = proof.member;
    const member = await tx.members.findMemberById(memberId);
    const current = await tx.passwords.findPassword(memberId, FOR_UPDATE);
    if (member === undefined || member.status === 'deleted' || member.emailAddress !== emailAddress || current === undefined || current.hash !== proof.matched.hash) {
      throw wrongPasswordError();
    }
    // Admitted within the lock's allowance (#admit): a lock set meanwhile by other attempts does not
    // refuse it, or the lock would tell which of a burst of guesses was right.
    await tx.passwords.clearFailures(ACROSS_ORGANIZATIONS, emailAddress);
    if (proof.rehash !== undefined) await tx.passwords.replaceHash(current.memberPasswordId, current, proof.rehash, at);
  }

  /**
   * Inside the sign-in's transaction, with the member locked: the password proved is still the
   * member's (a reset that committed meanwhile wins; this sign-in is then refused as a wrong
   * password), the address's failures are forgotten (and a lock lifted) and a migrated or outdated
   * hash is replaced by its argon2id rehash. Returns the member as now stored.
   */
  async confirm(tx: PasswordPorts, proof: PasswordProof, member: Member): Promise<Member> {
    const at = toTimestamp(this.#clock.now());
    const current = await tx.passwords.findPassword(member.memberId, FOR_UPDATE);
    if (current === undefined || current.hash !== proof.matched.hash || member.emailAddress !== proof.member.emailAddress) throw wrongPasswordError();
    // Admitted within the lock's allowance (#admit): a lock set meanwhile by other attempts does not
    // refuse it, or the lock would tell which of a burst of guesses was right.
    await tx.passwords.clearFailures(this.#failureKey(member.organizationId), member.emailAddress);
    if (proof.rehash !== undefined) await tx.passwords.replaceHash(current.memberPasswordId, current, proof.rehash, at);
    if (!member.isLocked) return member;
    return (await tx.members.setMemberLock(member.organizationId, member.memberId, null, at)) ?? member;
  }

  /**
   * A right password whose sign-in was then refused for a reason its answer shows (a weak new
   * password, bad session options, a full hashing queue): the attempt is no failure, so its count
   * is forgotten, in a transaction of its own. Refusals that answer like a wrong password (a
   * member not yet active, a password changed meanwhile) are not forgiven: they must look like one.
   */
  async forgive(proof: PasswordProof): Promise<void> {
    await this.#store.passwords.clearFailures(this.#failureKey(proof.member.organizationId), proof.member.emailAddress);
  }

  /**
   * A new password judged by the project's policy (zxcvbn or LUDS) and, when the project checks
   * breaches on creation, the breach source: `weak_password` or `breached_password` otherwise.
   * Then hashed (outside any transaction), ready for `savePassword`.
   */
  async hashNewPassword(password: string, userInputs: readonly string[]): Promise<PasswordHash> {
    const strength = await this.#strength.check(password, { userInputs, checkBreach: this.#settings.checkBreachOnCreation });
    if (strength.breachedPassword) throw passwordError('breached_password');
    if (!strength.validPassword) throw passwordError('weak_password');
    return this.#hashing.hash(password);
  }

  /**
   * Writes `hash` as the member's password in `tx` (replacing any), sets their `member_password_id`,
   * forgets the address's failures and lifts a lock, with a `member.password_set` audit event. With
   * cross-organization passwords, the address's members in every other organization get it too.
   * Returns the member as now stored, or undefined when they are deleted.
   */
  async savePassword(
    tx: PasswordPorts,
    context: OperationContext,
    member: Member,
    hash: PasswordHash,
    how: string,
    options: SaveOptions = {},
  ): Promise<Member | undefined> {
    const updated = await this.#saveOne(tx, context, member, hash, how);
    if (updated !== undefined) await tx.passwords.clearFailures(this.#failureKey(member.organizationId), member.emailAddress);
    if (options.thisMemberOnly === true) return updated;
    // One password per address, but only from an address the member proved (a mailed link, a
    // migration by the backend): an organization that merely names someone's address must not set
    // that person's password everywhere.
    if (updated === undefined || !this.#settings.crossOrgPasswordsEnabled || !(updated.emailAddressVerified || options.addressProved === true)) return updated;
    const others = (await tx.members.findLiveMembersByEmail(member.emailAddress)).filter((other) => other.memberId !== member.memberId);
    // Each other member's organization (shared) and then the member (for update), as every
    // transaction on them locks them, in member-id order. Two changes of one address started from
    // different organizations can still lock each other's members in opposite orders: PostgreSQL
    // then aborts one, and the store runs it again once the other has committed (store.ts).
    for (const other of others.sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
      const organization = await tx.organizations.findOrganization(other.organizationId, FOR_SHARE);
      const locked = organization === undefined ? undefined : await tx.members.findMemberById(other.memberId, FOR_UPDATE);
      if (locked === undefined || locked.status === 'deleted' || locked.emailAddress !== member.emailAddress) continue;
      if ((await this.#saveOne(tx, context, locked, hash, `${how}_cross_org`)) !== undefined) await options.alsoChanged?.(locked);
    }
    return updated;
  }

  async #saveOne(tx: PasswordPorts, context: OperationContext, member: Member, hash: PasswordHash, how: string): Promise<Member | undefined> {
    const at = toTimestamp(this.#clock.now());
    const existing = await tx.passwords.findPassword(member.memberId, FOR_UPDATE);
    const stored: StoredPassword = {
      memberPasswordId: existing?.memberPasswordId ?? this.#ids.next('member-password'),
      memberId: member.memberId,
      organizationId: member.organizationId,
      ...hash,
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
    };
    await tx.passwords.savePassword(stored);
    let updated = await tx.members.setMemberPasswordId(member.organizationId, member.memberId, stored.memberPasswordId, at);
    if (updated?.isLocked === true) updated = await tx.members.setMemberLock(member.organizationId, member.memberId, null, at);
    if (updated === undefined) return undefined;
    await this.#audit.record(tx.audit, context, {
      type: 'member.password_set',
      organizationId: member.organizationId,
      memberId: member.memberId,
      occurredAt: at,
      details: { member_password_id: stored.memberPasswordId, how, hash_type: hash.hashType, replaced: existing !== undefined },
    });
    return updated;
  }

  /** Deletes the member's password in `tx` and clears their `member_password_id`, audited; returns whether they had one. */
  async deletePassword(tx: PasswordPorts, context: OperationContext, member: Member, how: string): Promise<boolean> {
    const deleted = await tx.passwords.deletePassword(member.memberId);
    if (!deleted) return false;
    const at = toTimestamp(this.#clock.now());
    await tx.members.setMemberPasswordId(member.organizationId, member.memberId, '', at);
    await this.#audit.record(tx.audit, context, {
      type: 'member.password_deleted',
      organizationId: member.organizationId,
      memberId: member.memberId,
      occurredAt: at,
      details: { member_password_id: member.memberPasswordId, how },
    });
    return true;
  }

  /**
   * Whose failures an address's attempts count toward: its organization's, or with one password per
   * address (cross-organization passwords) the address's across organizations, so an attacker gets
   * one threshold for the address, not one per organization it belongs to.
   */
  #failureKey(organizationId: string | null): string {
    return organizationId === null || this.#settings.crossOrgPasswordsEnabled ? ACROSS_ORGANIZATIONS : organizationId;
  }

  /**
   * Counts the attempt before its password is checked, in one atomic statement, and refuses it
   * (429 `user_lock_limit_reached`, audited) when the address is locked, or when the attempts
   * counted before it reach the threshold (which locks it from this one on). Counting first is
   * what makes the lock hold under concurrency: of a burst of guesses, only `userLockThreshold`
   * are ever checked, and since an admitted one is never refused afterwards by a lock the others
   * set, no answer tells which guess was right. A right password forgets the count (`confirm`, or
   * `forgive` when the sign-in is refused for another reason); a wrong one leaves it and, at the
   * threshold, sets the lock (`#fail`).
   */
  async #admit(context: OperationContext, scope: FailureScope, member: Member | undefined): Promise<void> {
    const now = this.#clock.now();
    const counted = await this.#store.passwords.countAttempt(this.#failureKey(scope.organization?.organizationId ?? null), scope.emailAddress, toTimestamp(now), {
      threshold: this.#settings.userLockThreshold,
      expiresAt: this.#lockEnd(now),
    });
    const lockLeft = counted.lockExpiresAt === null ? 0 : Date.parse(counted.lockExpiresAt) - now.getTime();
    if (lockLeft <= 0) return;
    const error = new UserLockedError(Math.ceil(lockLeft / 1000));
    await this.#store.transaction((tx) =>
      this.#recordRefusal(tx, context, scope, member, 'locked', error.code, counted.lockExpiresAt === null ? {} : { locked_until: counted.lockExpiresAt }),
    );
    throw error;
  }

  /**
   * A right password: the address's failures are forgotten at once, as `confirm` forgets them again
   * in the sign-in's transaction. Not only then: until that commits, the attempt would still count,
   * and a member's own burst of right passwords (a double-clicked button, a retrying client) would
   * pile up counted attempts and lock them out.
   */
  async #forgetOnMatch(scope: FailureScope): Promise<void> {
    await this.#store.passwords.clearFailures(this.#failureKey(scope.organization?.organizationId ?? null), scope.emailAddress);
  }

  #lockEnd(now: Date): string {
    return toTimestamp(new Date(now.getTime() + this.#settings.userLockTtlSeconds * 1000));
  }

  /**
   * An organization whose `auth_methods` exclude passwords refuses a password sign-in before any
   * hashing (403, audited), for every address but a break-glass member's: refusing only after a
   * right password would tell which guess was right, and refusing unknown addresses alike keeps
   * them from being told apart from members.
   */
  async #refuseIfRestricted(context: OperationContext, scope: FailureScope & { readonly organization: Organization }, member: Member | undefined): Promise<void> {
    try {
      checkMethodAllowed(scope.organization, member, 'password');
    } catch (error) {
      if (!isDomainError(error)) throw error;
      await this.#store.transaction((tx) => this.#recordRefusal(tx, context, scope, member, 'method_not_allowed', error.code));
      throw error;
    }
  }

  /**
   * Verifies, then spends a decoy verification too when the stored hash is of a type that checks in
   * microseconds (a migrated md5): a sign-in never takes much less than one argon2id verification,
   * whichever hash the address has, or whether it has one. (Slow migrated hashes, bcrypt say, are
   * not padded: they take about as long already, and padding them would make them stand out.)
   */
  async #verifyPadded(stored: StoredPassword, password: string, admission: HashingAdmission): Promise<PasswordCheck> {
    const check = await this.#hashing.verify(stored, password, admission);
    if (CHEAP_HASH_TYPES.has(stored.hashType)) await this.#hashing.verifyNothing(password, admission);
    return check;
  }

  /** The project's checks of a right password: breached (with a breach source), or below the policy (validate on authentication). */
  async #checkOnAuthentication(context: OperationContext, scope: FailureScope, member: Member, password: string): Promise<void> {
    const { checkBreachOnAuthentication, validateOnAuthentication } = this.#settings;
    if (!checkBreachOnAuthentication && !validateOnAuthentication) return;
    let strength: PasswordStrength;
    try {
      strength = await this.#strength.check(password, { userInputs: [member.emailAddress, member.name], checkBreach: checkBreachOnAuthentication });
    } catch (error) {
      // The breach source cannot answer, or the strength checker is full (logged where it failed):
      // the password was right, and checks that cannot run now must not lock every member out. A
      // new password is refused instead.
      if (isDomainError(error) && (error.code === 'server_unavailable' || error.code === 'too_many_requests')) return;
      throw error;
    }
    const why = strength.breachedPassword ? 'breached_password' : validateOnAuthentication && !strength.validPassword ? 'below_policy' : undefined;
    if (why === undefined) return;
    await this.#store.transaction(async (tx) => {
      // The password was right: the attempt is no failure toward the lock (#admit counted it).
      await tx.passwords.clearFailures(this.#failureKey(scope.organization?.organizationId ?? null), scope.emailAddress);
      await this.#recordRefusal(tx, context, scope, member, why, 'member_reset_password');
    });
    throw passwordError('member_reset_password');
  }

  /**
   * A wrong password (or none to check), already counted by #admit: in a transaction of its own,
   * the address is locked when its count has reached the threshold (and the member's lock columns
   * set, when there is a member), with the refusal's audit event; then the one answer for all three
   * cases.
   */
  async #fail(context: OperationContext, scope: FailureScope, member: Member | undefined, why: string): Promise<never> {
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const key = this.#failureKey(scope.organization?.organizationId ?? null);
    await this.#store.transaction(async (tx) => {
      // The member's row before the address's failures: the order a sign-in takes them in (its
      // verifier locks the member, then confirm clears the failures). The other order deadlocks on
      // PostgreSQL when a wrong and a right password for one member meet.
      if (member !== undefined) await tx.members.findMemberById(member.memberId, FOR_UPDATE);
      // This attempt was counted when it was admitted (#admit); a right one since may have cleared it.
      const failures = await tx.passwords.findFailures(key, scope.emailAddress);
      const count = failures?.failedAttempts ?? 0;
      const alreadyLocked = failures?.lockExpiresAt != null && failures.lockExpiresAt > at;
      const lock = failures !== undefined && !alreadyLocked && count >= this.#settings.userLockThreshold ? { createdAt: at, expiresAt: this.#lockEnd(now) } : null;
      if (failures !== undefined && lock !== null) await tx.passwords.saveFailures({ ...failures, lockedAt: lock.createdAt, lockExpiresAt: lock.expiresAt }, at);
      if (lock !== null && member !== undefined) await tx.members.setMemberLock(member.organizationId, member.memberId, lock, at);
      await this.#recordRefusal(tx, context, scope, member, why, 'unauthorized_credentials', { failed_attempts: count, ...(lock !== null && { locked_until: lock.expiresAt }) });
    });
    throw wrongPasswordError();
  }

  /** Of the members' passwords, the one set last; undefined when none has one. */
  async #newestPassword(members: readonly Member[]): Promise<{ member: Member; matched: StoredPassword } | undefined> {
    let newest: { member: Member; matched: StoredPassword } | undefined;
    for (const member of members) {
      if (member.memberPasswordId === '') continue;
      const matched = await this.#store.passwords.findPassword(member.memberId);
      if (matched !== undefined && (newest === undefined || matched.updatedAt > newest.matched.updatedAt)) newest = { member, matched };
    }
    return newest;
  }

  async #recordRefusal(
    tx: PasswordPorts,
    context: OperationContext,
    scope: FailureScope,
    member: Member | undefined,
    why: string,
    errorType: string,
    extra: Record<string, unknown> = {},
  ): Promise<void> {
    await this.#audit.record(tx.audit, context, {
      type: 'member.sign_in_refused',
      organizationId: scope.organization?.organizationId ?? null,
      memberId: member?.memberId ?? null,
      // Across organizations no member is named: the address says whose attempt it was.
      details: { method: scope.method, why, error_type: errorType, ...(scope.organization === null && { email_address: scope.emailAddress }), ...extra },
    });
  }
}

/** What else a password change does to the address's members in other organizations (cross-organization passwords). */
export interface SaveOptions {
  /** Only this member, even with cross-organization passwords (passwords.migrate is per organization, as in Stytch). */
  readonly thisMemberOnly?: boolean;
  /** The caller proved the address just now (a mailed reset token), whatever the member's `email_address_verified` says. */
  readonly addressProved?: boolean;
  /** Called in the transaction for each other member whose password changed with it (a reset ends their sessions too). */
  readonly alsoChanged?: (member: Member) => Promise<void>;
}

/** Whose failures: an address in an organization, or across organizations (null). */
type FailureScope = { readonly organization: Organization | null; readonly emailAddress: string; readonly method: string };
