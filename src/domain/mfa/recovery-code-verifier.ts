import { digestsMatch } from '../../crypto/opaque-token.js';
import { secretDigestBytes } from '../../crypto/secret-digest.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { StorePorts } from '../ports.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import { KeptRefusal, type SignInVerifier, type VerifiedFactor } from '../sessions/sign-in/verifier.js';
import { mfaError } from './errors.js';
import type { MfaGuessLimit } from './mfa-guess-limit.js';
import { requireMfaMember } from './mfa-member.js';
import { requireActiveMember, requireMfaMethodAllowed } from './mfa-rules.js';
import type { MfaSealer } from './mfa-sealer.js';
import type { RecoveryCode } from './totp-registration.js';

/** What recoveryCodes.recover presents besides the session arguments. */
export interface PresentedRecoveryCode {
  readonly organizationId: string;
  readonly memberId: string;
  /** Normalised (recovery-code-format.ts) before the sign-in starts. */
  readonly recoveryCode: string;
}

/** The factor a recovery code adds to a session, as Stytch lists it. */
export function recoveryCodeFactor(recoveryCodeId: string, at: string): AuthenticationFactor {
  return {
    type: 'recovery_codes',
    deliveryMethod: 'recovery_code',
    createdAt: at,
    lastAuthenticatedAt: at,
    updatedAt: at,
    detail: { name: 'recovery_code_factor', fields: { totp_recovery_code_id: recoveryCodeId } },
  };
}

/**
 * recoveryCodes.recover's sign-in method, a second factor standing in for the member's TOTP. Inside
 * the pipeline's transaction, with the organization and then the member locked, the member's
 * ACTIVE registration's unused codes are opened and each compared with the one presented (digests,
 * in constant time, every code compared whichever matches). The matching code is spent by a
 * conditional update, so of two requests with it exactly one gets through. Wrong codes are counted
 * (the TOTP guess bound, shared) and audited, and those writes are kept although the sign-in is
 * refused. The member's MFA columns are left as they are: a recovery code is no MFA method.
 */
export class RecoveryCodeVerifier implements SignInVerifier<StorePorts> {
  readonly #presented: PresentedRecoveryCode;
  readonly #clock: Clock;
  readonly #sealer: MfaSealer;
  readonly #guesses: MfaGuessLimit;
  readonly #audit: AuditRecorder;
  /** Unused codes left after this one, once it is spent. */
  remaining: number | undefined;

  constructor(dependencies: { clock: Clock; sealer: MfaSealer; guesses: MfaGuessLimit; audit: AuditRecorder }, presented: PresentedRecoveryCode) {
    this.#presented = presented;
    this.#clock = dependencies.clock;
    this.#sealer = dependencies.sealer;
    this.#guesses = dependencies.guesses;
    this.#audit = dependencies.audit;
  }

  async verify(tx: StorePorts, context: OperationContext): Promise<VerifiedFactor<StorePorts>> {
    const { organization, member } = await requireMfaMember(tx, this.#presented.organizationId, this.#presented.memberId, { locked: true });
    requireActiveMember(member);
    requireMfaMethodAllowed(organization, member, 'totp');
    await this.#guesses.check(tx, member.memberId);
    const at = toTimestamp(this.#clock.now());
    const totp = await tx.totps.findTotp(member.memberId, { forUpdate: true });
    if (totp === undefined || totp.status !== 'active') throw mfaError('recovery_codes_not_found');
    const unused = (await tx.totps.listRecoveryCodes(totp.totpId)).filter((code) => code.usedAt === null);
    const matched = this.#match(unused);
    if (matched === undefined) {
      await this.#guesses.countFailure(tx, member.memberId);
      await this.#audit.record(tx.audit, context, {
        type: 'member.sign_in_refused',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        details: { method: 'recovery_code', why: 'wrong_code', error_type: 'unable_to_authenticate_recovery_code', totp_registration_id: totp.totpId },
      });
      throw new KeptRefusal(mfaError('unable_to_authenticate_recovery_code'));
    }
    if (!(await tx.totps.useRecoveryCode(matched.recoveryCodeId, at))) throw mfaError('unable_to_authenticate_recovery_code');
    this.remaining = unused.length - 1;
    return { member, organization, factor: recoveryCodeFactor(matched.recoveryCodeId, at), secondFactor: true, signInMethod: 'recovery_code' };
  }

  /** The unused code equal to the one presented; every code is opened and compared, so the time taken says nothing of which matched. */
  #match(unused: readonly RecoveryCode[]): RecoveryCode | undefined {
    const presented = secretDigestBytes(this.#presented.recoveryCode);
    let matched: RecoveryCode | undefined;
    for (const code of unused) {
      if (digestsMatch(secretDigestBytes(this.#sealer.open(code.recoveryCodeId, code.sealedCode)), presented) && matched === undefined) matched = code;
    }
    return matched;
  }
}
