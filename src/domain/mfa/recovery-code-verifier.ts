import { digestsMatch } from '../../crypto/opaque-token.js';
import { secretDigestBytes } from '../../crypto/secret-digest.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { OperationContext } from '../common/operation-context.js';
import type { StorePorts } from '../ports.js';
import type { AuthenticationFactor } from '../sessions/session.js';
import type { SignInVerifier, VerifiedFactor } from '../sessions/sign-in/verifier.js';
import { mfaError } from './errors.js';
import type { MfaGuessLimit } from './mfa-guess-limit.js';
import { requireLiveMember } from '../members/require-live-member.js';
import { requireActiveMember, requireMfaMethodAllowed } from './mfa-rules.js';
import type { MfaSealer } from './mfa-sealer.js';
import type { RecoveryCode } from './totp-registration.js';
import { checkGuessBound, keptMfaRefusal } from './mfa-refusals.js';

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
    const { organization, member } = await requireLiveMember(tx, this.#presented.organizationId, this.#presented.memberId, { locked: true });
    requireActiveMember(member);
    requireMfaMethodAllowed(organization, member, 'totp');
    await checkGuessBound(tx, { guesses: this.#guesses, audit: this.#audit }, context, member, 'recovery_code');
    const at = toTimestamp(this.#clock.now());
    const totp = await tx.totps.findTotp(member.memberId, { forUpdate: true });
    if (totp === undefined || totp.status !== 'active') throw mfaError('recovery_codes_not_found');
    const codes = await tx.totps.listRecoveryCodes(totp.totpId);
    const unused = codes.filter((code) => code.usedAt === null);
    const matched = this.#match(codes);
    if (matched === undefined || matched.usedAt !== null) {
      // A code used before counts as a wrong one, and says so: someone else may hold the member's codes.
      await this.#guesses.countFailure(tx, member.memberId);
      const why = matched === undefined ? 'wrong_code' : 'reused_code';
      throw await keptMfaRefusal(tx, this.#audit, context, member, 'recovery_code', mfaError('unable_to_authenticate_recovery_code'), { why, totp_registration_id: totp.totpId });
    }
    if (!(await tx.totps.useRecoveryCode(matched.recoveryCodeId, at))) throw mfaError('unable_to_authenticate_recovery_code');
    this.remaining = unused.length - 1;
    return { member, organization, factor: recoveryCodeFactor(matched.recoveryCodeId, at), secondFactor: true, signInMethod: 'recovery_code' };
  }

  /** The code (used or not) equal to the one presented; every code is opened and compared, so the time taken says nothing of which matched. */
  #match(codes: readonly RecoveryCode[]): RecoveryCode | undefined {
    const presented = secretDigestBytes(this.#presented.recoveryCode);
    let matched: RecoveryCode | undefined;
    for (const code of codes) {
      if (digestsMatch(secretDigestBytes(this.#sealer.open(code.recoveryCodeId, code.sealedCode)), presented) && matched === undefined) matched = code;
    }
    return matched;
  }
}
