import { qrCodePngDataUrl } from '../../crypto/qr-code.js';
import { newTotpSecret, totpUri } from '../../crypto/totp.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import type { MemberWithOrganization } from '../members/members-service.js';
import type { StorePorts } from '../ports.js';
import type { SessionIssued } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn, SignInOptions } from '../sessions/sign-in/pipeline.js';
import { mfaError } from './errors.js';
import type { MfaGuessLimit } from './mfa-guess-limit.js';
import { requireLiveMember } from '../members/require-live-member.js';
import { checkSetMfaEnrollment, requireActiveMember, requireEnrolmentProof, requireMfaMethodAllowed, type EnrolmentGuard, type PresentedProof } from './mfa-rules.js';
import type { MfaSealer } from './mfa-sealer.js';
import { newRecoveryCodes, normaliseRecoveryCode } from './recovery-code-format.js';
import { sealRecoveryCodes } from './recovery-codes-service.js';
import type { SecondFactorProof } from './second-factor-proof.js';
import { RECOVERY_CODE_COUNT, TOTP_REGISTRATION_MINUTES, type MemberTotp } from './totp-registration.js';
import { applyMfaChanges } from './member-mfa-state.js';
import { TotpVerifier } from './totp-verifier.js';

export interface CreateTotpInput extends PresentedProof {
  readonly organizationId: string;
  readonly memberId: string;
  readonly expirationMinutes?: number | undefined;
}

export interface TotpCreated extends MemberWithOrganization {
  readonly totpRegistrationId: string;
  /** Base32, shown once: an authenticator app is set up from it or from the QR code. */
  readonly secret: string;
  /** `data:image/png;base64, <png>` of the otpauth:// URI. */
  readonly qrCode: string;
  readonly recoveryCodes: readonly string[];
}

export interface AuthenticateTotpInput extends SignInOptions {
  readonly organizationId: string;
  readonly memberId: string;
  readonly code: string;
  readonly setMfaEnrollment?: string | undefined;
  readonly setDefaultMfa?: boolean | undefined;
}

export interface MigrateTotpInput {
  readonly organizationId: string;
  readonly memberId: string;
  readonly secret: string;
  readonly recoveryCodes: readonly string[];
}

export interface TotpMigrated extends MemberWithOrganization {
  readonly totpRegistrationId: string;
  readonly recoveryCodes: readonly string[];
}

/** Base32 (RFC 4648) without its padding, at least 16 characters (80 bits), at most 128 (640 bits). */
const BASE32_SECRET = /^[A-Z2-7]{16,128}$/;
/** What an authenticator app shows the registration under when the organization has no name. */
const DEFAULT_ISSUER = 'Understudy';

/**
 * A member's authenticator-app (TOTP) registration: create (pending until its first code), the
 * second factor itself (authenticate), migrate (a secret from another system, active at once) and
 * deleteTOTP. At most one per member.
 */
export class TotpsService {
  readonly #store: Transactional<StorePorts>;
  readonly #signIn: SignIn<StorePorts>;
  readonly #guard: Pick<EnrolmentGuard, 'presentedFactors'>;
  readonly #proof: Pick<SecondFactorProof, 'require'>;
  readonly #guesses: MfaGuessLimit;
  readonly #sealer: MfaSealer;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;

  constructor(dependencies: {
    store: Transactional<StorePorts>;
    signIn: SignIn<StorePorts>;
    guard: Pick<EnrolmentGuard, 'presentedFactors'>;
    proof: Pick<SecondFactorProof, 'require'>;
    guesses: MfaGuessLimit;
    sealer: MfaSealer;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
  }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#guard = dependencies.guard;
    this.#proof = dependencies.proof;
    this.#guesses = dependencies.guesses;
    this.#sealer = dependencies.sealer;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /**
   * totps.create: a new secret and ten recovery codes, pending until a code of it is authenticated
   * within `expiration_minutes`. A pending registration is replaced; an active one is refused
   * (deleteTOTP first). The enrolment guard (mfa-rules.ts) keeps a member who already has a second
   * factor from being given another without it.
   */
  async create(context: OperationContext, input: CreateTotpInput): Promise<TotpCreated> {
    const minutes = checkExpirationMinutes(input.expirationMinutes);
    const { organization, member } = await requireLiveMember(this.#store, input.organizationId, input.memberId);
    requireActiveMember(member);
    requireMfaMethodAllowed(organization, member, 'totp');
    // The enrolment rule: the proof is resolved now, and judged again on the member as locked.
    const factors = await this.#guard.presentedFactors(input, member);
    requireEnrolmentProof(member, organization, factors);
    // Made before the transaction, which then holds its locks only for the writes.
    const secret = newTotpSecret(this.#random.bytes(20));
    const recoveryCodes = newRecoveryCodes(this.#random, RECOVERY_CODE_COUNT);
    const qrCode = await qrCodePngDataUrl(totpUri(secret, member.emailAddress, organization.organizationName || DEFAULT_ISSUER));
    return this.#store.transaction(async (tx) => {
      const locked = await requireLiveMember(tx, organization.organizationId, member.memberId, { locked: true });
      requireActiveMember(locked.member);
      requireMfaMethodAllowed(locked.organization, locked.member, 'totp');
      requireEnrolmentProof(locked.member, locked.organization, factors);
      const existing = await tx.totps.findTotp(member.memberId, { forUpdate: true });
      if (existing?.status === 'active') throw mfaError('active_totp_exists');
      const now = this.#clock.now();
      const at = toTimestamp(now);
      const totp = this.#registration(member, secret, at, { expiresAt: toTimestamp(new Date(now.getTime() + minutes * 60_000)) });
      await tx.totps.saveTotp(totp, sealRecoveryCodes({ ids: this.#ids, sealer: this.#sealer }, totp, recoveryCodes, at));
      await this.#audit.record(tx.audit, context, {
        type: 'member.totp_created',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: at,
        details: { totp_registration_id: totp.totpId, status: 'pending', expires_at: totp.expiresAt, ...(existing !== undefined && { replaced_totp_registration_id: existing.totpId }) },
      });
      return { member: locked.member, organization: locked.organization, totpRegistrationId: totp.totpId, secret, qrCode, recoveryCodes };
    });
  }

  /**
   * totps.authenticate: a second factor, so it completes the member's intermediate session or
   * steps up their session (TotpVerifier; the sign-in pipeline decides which). What can be refused
   * without the code is refused before it is judged.
   */
  async authenticate(context: OperationContext, input: AuthenticateTotpInput): Promise<SessionIssued> {
    if (!/^\d{6}$/.test(input.code)) throw mfaError('invalid_totp_code');
    const setMfaEnrollment = checkSetMfaEnrollment(input.setMfaEnrollment);
    const { organization, member } = await requireLiveMember(this.#store, input.organizationId, input.memberId);
    const presentedFactors = await this.#proof.require(input, member, organization, { context, method: 'totp' });
    await this.#guesses.prune(this.#store);
    // The member and organization as resolved here: a slug or external id moved meanwhile must not point the code at another member.
    const verifier = new TotpVerifier(
      { clock: this.#clock, sealer: this.#sealer, guesses: this.#guesses, audit: this.#audit },
      { organizationId: organization.organizationId, memberId: member.memberId, code: input.code, setMfaEnrollment, setDefaultMfa: input.setDefaultMfa, presentedFactors },
    );
    const outcome = await this.#signIn.signIn(context, verifier, input);
    if (!outcome.memberAuthenticated) throw new Error('a second factor always ends in a member session');
    return outcome;
  }

  /**
   * totps.migrate: a secret from another system, active at once (no code is asked for), with the
   * recovery codes given (Stytch's format) or ten new ones when none are. Refused like create when
   * the member has an active registration.
   */
  async migrate(context: OperationContext, input: MigrateTotpInput): Promise<TotpMigrated> {
    const secret = checkSecret(input.secret);
    const given = checkRecoveryCodes(input.recoveryCodes);
    const recoveryCodes = given.length === 0 ? newRecoveryCodes(this.#random, RECOVERY_CODE_COUNT) : given;
    return this.#store.transaction(async (tx) => {
      const { organization, member } = await requireLiveMember(tx, input.organizationId, input.memberId, { locked: true });
      requireActiveMember(member);
      requireMfaMethodAllowed(organization, member, 'totp');
      const existing = await tx.totps.findTotp(member.memberId, { forUpdate: true });
      if (existing?.status === 'active') throw mfaError('active_totp_exists');
      const at = toTimestamp(this.#clock.now());
      const totp = this.#registration(member, secret, at, { active: true });
      await tx.totps.saveTotp(totp, sealRecoveryCodes({ ids: this.#ids, sealer: this.#sealer }, totp, recoveryCodes, at));
      const updated = await applyMfaChanges(tx, member, { totpRegistrationId: totp.totpId }, at);
      await this.#audit.record(tx.audit, context, {
        type: 'member.totp_created',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: at,
        details: { totp_registration_id: totp.totpId, status: 'active', migrated: true, recovery_codes_given: given.length > 0, ...(existing !== undefined && { replaced_totp_registration_id: existing.totpId }) },
      });
      return { member: updated, organization, totpRegistrationId: totp.totpId, recoveryCodes };
    });
  }

  /**
   * organizations.members.deleteTOTP (and the console's reset, which gives a `reason`): the
   * registration, pending or active, and its recovery codes are deleted; `totp_registration_id` is
   * cleared, and a `totp` default MFA method with it. Sessions already holding a TOTP factor stay.
   * A member without one gets the same answer, and nothing is written; `deleted` (not on the wire)
   * tells the console which of the two happened.
   */
  async deleteTotp(context: OperationContext, organizationReference: string, memberReference: string, reason?: string): Promise<MemberWithOrganization & { readonly deleted: boolean }> {
    return this.#store.transaction(async (tx) => {
      const { organization, member } = await requireLiveMember(tx, organizationReference, memberReference, { locked: true });
      const existing = await tx.totps.findTotp(member.memberId, { forUpdate: true });
      // Nothing to delete: the same success, and nothing written (a retried delete is safe, as deleteMFAPhoneNumber).
      if (existing === undefined && member.totpRegistrationId === '') return { member, organization, deleted: false };
      await tx.totps.deleteTotp(member.memberId);
      const at = toTimestamp(this.#clock.now());
      const updated = await applyMfaChanges(tx, member, { totpRegistrationId: '', defaultMfaMethod: member.defaultMfaMethod === 'totp' ? '' : member.defaultMfaMethod }, at);
      await this.#audit.record(tx.audit, context, {
        type: 'member.totp_deleted',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: at,
        details: { totp_registration_id: existing?.totpId ?? member.totpRegistrationId, status: existing?.status ?? 'missing', ...(reason !== undefined && reason !== '' && { reason }) },
      });
      return { member: updated, organization, deleted: true };
    });
  }

  #registration(member: { memberId: string; organizationId: string }, secret: string, at: string, state: { active: true } | { expiresAt: string }): MemberTotp {
    const totpId = this.#ids.next('member-totp');
    const active = 'active' in state;
    return {
      totpId,
      memberId: member.memberId,
      organizationId: member.organizationId,
      sealedSecret: this.#sealer.seal(totpId, secret),
      status: active ? 'active' : 'pending',
      createdAt: at,
      expiresAt: active ? null : state.expiresAt,
      activatedAt: active ? at : null,
      lastUsedStep: null,
    };
  }
}

function checkExpirationMinutes(minutes: number | undefined): number {
  if (minutes === undefined) return TOTP_REGISTRATION_MINUTES.default;
  if (!Number.isInteger(minutes) || minutes < TOTP_REGISTRATION_MINUTES.min || minutes > TOTP_REGISTRATION_MINUTES.max) throw mfaError('invalid_expiration_totp');
  return minutes;
}

/** The secret in one form: upper case, padding dropped (authenticator exports vary in both). */
function checkSecret(presented: string): string {
  const secret = presented.trim().toUpperCase().replace(/=+$/, '');
  if (!BASE32_SECRET.test(secret)) throw mfaError('invalid_totp_secret');
  return secret;
}

/** The recovery codes a migration brings, normalised: at most ten, all distinct, each in Stytch's format. */
function checkRecoveryCodes(presented: readonly string[]): string[] {
  if (presented.length > RECOVERY_CODE_COUNT) throw mfaError('invalid_recovery_code', `At most ${RECOVERY_CODE_COUNT} recovery codes can be migrated.`);
  const codes = presented.map((code) => {
    const normalised = normaliseRecoveryCode(code);
    if (normalised === undefined) throw mfaError('invalid_recovery_code');
    return normalised;
  });
  if (new Set(codes).size !== codes.length) throw mfaError('invalid_recovery_code', 'The recovery codes given must all differ.');
  return codes;
}
