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
import type { MfaSealer } from './mfa-sealer.js';
import { newRecoveryCodes, normaliseRecoveryCode } from './recovery-code-format.js';
import { RecoveryCodeVerifier } from './recovery-code-verifier.js';
import type { SecondFactorProof } from './second-factor-proof.js';
import { RECOVERY_CODE_COUNT, type MemberTotp, type RecoveryCode } from './totp-registration.js';

export interface RecoverInput extends SignInOptions {
  readonly organizationId: string;
  readonly memberId: string;
  readonly recoveryCode: string;
}

export interface Recovered {
  readonly outcome: SessionIssued;
  readonly recoveryCodesRemaining: number;
}

export interface RecoveryCodesShown extends MemberWithOrganization {
  readonly recoveryCodes: readonly string[];
}

/** What a registration's codes are made of: ids, sealed values and order, for `codes` in the order shown. */
export function sealRecoveryCodes(dependencies: { ids: IdGenerator; sealer: MfaSealer }, totp: Pick<MemberTotp, 'totpId' | 'memberId' | 'organizationId'>, codes: readonly string[], at: string): RecoveryCode[] {
  return codes.map((code, position) => {
    const recoveryCodeId = dependencies.ids.next('totp-recovery-code');
    return {
      recoveryCodeId,
      totpId: totp.totpId,
      memberId: totp.memberId,
      organizationId: totp.organizationId,
      sealedCode: dependencies.sealer.seal(recoveryCodeId, code),
      position,
      createdAt: at,
      usedAt: null,
    };
  });
}

/**
 * Recovery codes of a member's active TOTP registration: recover (a code instead of a TOTP code,
 * each once), get (the unused ones, shown again) and rotate (a new set; the old ones stop working).
 */
export class RecoveryCodesService {
  readonly #store: Transactional<StorePorts>;
  readonly #signIn: SignIn<StorePorts>;
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
    this.#proof = dependencies.proof;
    this.#guesses = dependencies.guesses;
    this.#sealer = dependencies.sealer;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  /**
   * recoveryCodes.recover: a second factor, so it completes the member's intermediate session or
   * steps up their session (RecoveryCodeVerifier; the sign-in pipeline decides which). A code of the
   * wrong shape is refused before anything is read; a six-digit TOTP code is one of those.
   */
  async recover(context: OperationContext, input: RecoverInput): Promise<Recovered> {
    const recoveryCode = normaliseRecoveryCode(input.recoveryCode);
    if (recoveryCode === undefined) {
      const totpLike = /^\s*\d{6}\s*$/.test(input.recoveryCode);
      throw mfaError('invalid_recovery_code', totpLike ? 'This is a TOTP code: send it to totps.authenticate. A recovery code looks like xxxx-xxxx-xxxx.' : undefined);
    }
    const { organization, member } = await requireLiveMember(this.#store, input.organizationId, input.memberId);
    await this.#proof.require(input, member, organization, { context, method: 'recovery_code' });
    await this.#guesses.prune(this.#store);
    // The member and organization as resolved here: a slug or external id moved meanwhile must not point the code at another member.
    const verifier = new RecoveryCodeVerifier(
      { clock: this.#clock, sealer: this.#sealer, guesses: this.#guesses, audit: this.#audit },
      { organizationId: organization.organizationId, memberId: member.memberId, recoveryCode },
    );
    const outcome = await this.#signIn.signIn(context, verifier, input);
    if (!outcome.memberAuthenticated || verifier.remaining === undefined) throw new Error('a second factor always ends in a member session');
    return { outcome, recoveryCodesRemaining: verifier.remaining };
  }

  /** recoveryCodes.get: the active registration's unused codes, in the order they were shown. */
  async get(organizationReference: string, memberReference: string): Promise<RecoveryCodesShown> {
    const { organization, member } = await requireLiveMember(this.#store, organizationReference, memberReference);
    const totp = await this.#store.totps.findTotp(member.memberId);
    if (totp === undefined || totp.status !== 'active') throw mfaError('recovery_codes_not_found');
    const codes = (await this.#store.totps.listRecoveryCodes(totp.totpId)).filter((code) => code.usedAt === null);
    return { member, organization, recoveryCodes: codes.map((code) => this.#sealer.open(code.recoveryCodeId, code.sealedCode)) };
  }

  /** recoveryCodes.rotate: ten new codes for the active registration; every earlier one, used or not, stops working. */
  async rotate(context: OperationContext, organizationReference: string, memberReference: string): Promise<RecoveryCodesShown> {
    const codes = newRecoveryCodes(this.#random, RECOVERY_CODE_COUNT);
    return this.#store.transaction(async (tx) => {
      const { organization, member } = await requireLiveMember(tx, organizationReference, memberReference, { locked: true });
      const totp = await tx.totps.findTotp(member.memberId, { forUpdate: true });
      if (totp === undefined || totp.status !== 'active') throw mfaError('recovery_codes_not_found');
      const at = toTimestamp(this.#clock.now());
      await tx.totps.replaceRecoveryCodes(totp.totpId, sealRecoveryCodes({ ids: this.#ids, sealer: this.#sealer }, totp, codes, at));
      await this.#audit.record(tx.audit, context, {
        type: 'member.recovery_codes_rotated',
        organizationId: organization.organizationId,
        memberId: member.memberId,
        occurredAt: at,
        details: { totp_registration_id: totp.totpId, recovery_codes: codes.length },
      });
      return { member, organization, recoveryCodes: codes };
    });
  }
}
