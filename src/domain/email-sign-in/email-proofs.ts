import { createOpaqueToken, findByOpaqueToken } from '../../crypto/opaque-token.js';
import { createOneTimeCode, digestOneTimeCode, oneTimeCodeMatches } from '../../crypto/one-time-code.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { AuditStore } from '../audit/audit-store.js';
import type { DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import { FOR_UPDATE } from '../common/read-for-update.js';
import type { Transactional } from '../common/transactional.js';
import type { RateLimiter } from '../rate-limits/rate-limiter.js';
import { isRedeemable, ONE_TIME_CODE_MAX_FAILED_ATTEMPTS, type EmailCredential, type EmailCredentialKind, type EmailCredentialPurpose } from './email-credential.js';
import type { SessionsStore } from '../sessions/sessions-store.js';
import type { EmailCredentialsStore } from './email-credentials-store.js';
import { emailSignInError } from './errors.js';
import { checkCodeVerifier } from './pkce.js';

type Ports = { emailCredentials: EmailCredentialsStore; audit: AuditStore };
type FoundMagicLink = { readonly credential: EmailCredential; readonly digest: Buffer; readonly lookupId: string };
type SweepPorts = { emailCredentials: EmailCredentialsStore; sessions: Pick<SessionsStore, 'deleteExpiredIntermediateSessions'> };

/**
 * How long a magic link, code or intermediate session is kept after it expired: long enough that a
 * late click on a used link still gets "already used or expired" rather than "not found".
 */
export const EXPIRED_PROOFS_KEPT_HOURS = 24;

/** What a new magic link or code is for. */
export interface ProofRequest {
  readonly kind: EmailCredentialKind;
  readonly purpose: EmailCredentialPurpose;
  readonly organizationId: string | null;
  readonly memberId: string | null;
  /** Canonical (normalizeEmail). */
  readonly emailAddress: string;
  readonly minutes: number;
}

/** The `stytch_token_type` a magic link of each kind carries in its URL. */
const TOKEN_TYPE: Partial<Record<EmailCredentialKind, string>> = {
  magic_link: 'multi_tenant_magic_links',
  discovery_magic_link: 'discovery',
  password_reset: 'multi_tenant_passwords',
  discovery_password_reset: 'discovery',
};

/**
 * A refused redemption of a magic link or code: the error the caller gets, and why, for the
 * `member.sign_in_refused` event written after the sign-in's transaction rolled back.
 */
export class SignInRefusal extends Error {
  constructor(
    readonly refusal: DomainError,
    readonly why: string,
    readonly scope: { readonly organizationId: string | null; readonly memberId: string | null; readonly method: string },
    /** Its `member.sign_in_refused` event is already written (with what it refused, in one transaction). */
    readonly recorded = false,
  ) {
    super(refusal.message);
  }
}

/**
 * Issuing and redeeming email proofs (magic links and one-time codes), shared by every email
 * sign-in method. Issuing writes the credential inside the send's transaction and returns the
 * secret for the message, which is delivered after that transaction commits. Redemption of a link
 * happens inside the sign-in pipeline's transaction; a code is checked in a transaction of its own
 * first, so a wrong guess is counted even though the sign-in that carried it is refused.
 */
export class EmailProofs {
  readonly #store: Transactional<Ports>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #rateLimits: RateLimiter;

  constructor(dependencies: { store: Transactional<Ports>; clock: Clock; random: Random; ids: IdGenerator; audit: AuditRecorder; rateLimits: RateLimiter }) {
    this.#store = dependencies.store;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#rateLimits = dependencies.rateLimits;
  }

  /**
   * Deletes the magic links, codes and intermediate sessions that expired more than
   * EXPIRED_PROOFS_KEPT_HOURS ago (the server's expiry sweeper calls it); returns how many.
   */
  async deleteExpired(store: SweepPorts): Promise<number> {
    const before = toTimestamp(new Date(this.#clock.now().getTime() - EXPIRED_PROOFS_KEPT_HOURS * 3_600_000));
    return (await store.emailCredentials.deleteExpiredCredentials(before)) + (await store.sessions.deleteExpiredIntermediateSessions(before));
  }

  /** Counts one send to `emailAddress` (and from the caller's address) before any work; throws too_many_requests past either limit. */
  async countSend(context: OperationContext, emailAddress: string): Promise<void> {
    await this.#rateLimits.clientLimit('email_sends_per_client')(context);
    await this.#rateLimits.consume('email_sends_per_address', emailAddress);
  }

  /**
   * A new magic link in `tx`: its token is stored only as lookup id and digest, and the link is the
   * redirect URL (its own query kept) plus `stytch_token_type` and `token`, as Stytch's links are.
   */
  async issueMagicLink(tx: Ports, request: ProofRequest & { readonly redirectUrl: string; readonly pkceCodeChallenge: string | null }): Promise<{ link: string; expiresAt: string }> {
    const token = createOpaqueToken(this.#random);
    const credential = this.#credential(request, request.pkceCodeChallenge);
    await tx.emailCredentials.insertCredential(credential, { lookupId: token.lookupId, digest: token.digest });
    const link = new URL(request.redirectUrl);
    link.searchParams.set('stytch_token_type', TOKEN_TYPE[request.kind] ?? 'multi_tenant_magic_links');
    link.searchParams.set('token', token.token);
    return { link: link.toString(), expiresAt: credential.expiresAt };
  }

  /**
   * A new six-digit code in `tx`; every earlier unspent code of the same kind to the same address
   * (and organization) is voided, under a lock on that address, so that of two sends racing, the
   * later one voids the earlier one's code rather than both staying live.
   */
  async issueCode(tx: Ports, request: ProofRequest): Promise<{ code: string; expiresAt: string }> {
    await tx.emailCredentials.lockCodeAddress(request.kind, request.organizationId, request.emailAddress);
    const credential = this.#credential(request, null);
    await tx.emailCredentials.voidCodes(request.kind, request.organizationId, request.emailAddress, credential.createdAt);
    const code = createOneTimeCode(this.#random);
    await tx.emailCredentials.insertCredential(credential, { lookupId: null, digest: digestOneTimeCode(credential.credentialId, code) });
    return { code, expiresAt: credential.expiresAt };
  }

  /**
   * Spends the magic link `token` inside `tx`: it must be one of ours (digest compared in constant
   * time), of one of `kinds`, unexpired, unspent, and `pkceCodeVerifier` must match its challenge.
   * Exactly one of concurrent redemptions wins the conditional update; the others are refused as
   * already used. A PKCE refusal leaves the link unspent: without the verifier it is of no use to
   * whoever holds it, and the browser that started the flow can still complete it.
   */
  async redeemMagicLink(tx: Ports, token: string, kinds: readonly EmailCredentialKind[], pkceCodeVerifier: string | undefined, method: string): Promise<EmailCredential> {
    return this.spendMagicLink(tx, await this.findMagicLink(tx, token), kinds, pkceCodeVerifier, method);
  }

  /** The stored magic link `token` names (digest compared in constant time), whatever its state; undefined when none. */
  async findMagicLink(tx: Ports, token: string): Promise<FoundMagicLink | undefined> {
    let lookupId = '';
    const found = await findByOpaqueToken(
      token,
      (key) => {
        lookupId = key;
        return tx.emailCredentials.findCredentialByLookupId(key);
      },
      (stored) => stored.digest,
    );
    return found === undefined ? undefined : { ...found, lookupId };
  }

  /** `redeemMagicLink` for a link already looked up with `findMagicLink` in the same transaction (a verifier that locked whom it names first). */
  async spendMagicLink(
    tx: Ports,
    found: FoundMagicLink | undefined,
    kinds: readonly EmailCredentialKind[],
    pkceCodeVerifier: string | undefined,
    method: string,
  ): Promise<EmailCredential> {
    const unknown = { organizationId: null, memberId: null, method };
    if (found === undefined) throw new SignInRefusal(emailSignInError('magic_link_not_found'), 'not_found', unknown);
    const { credential } = found;
    const scope = { organizationId: credential.organizationId, memberId: credential.memberId, method };
    // A token of another kind (a discovery link at magicLinks.authenticate) is one this endpoint does not know.
    if (!kinds.includes(credential.kind)) throw new SignInRefusal(emailSignInError('magic_link_not_found'), 'wrong_token_type', scope);
    const at = toTimestamp(this.#clock.now());
    if (!isRedeemable(credential, at)) {
      throw new SignInRefusal(emailSignInError('unable_to_auth_magic_link'), credential.consumedAt === null ? 'expired' : 'already_used', scope);
    }
    try {
      checkCodeVerifier(credential.pkceCodeChallenge, pkceCodeVerifier);
    } catch (error) {
      throw new SignInRefusal(error as DomainError, 'pkce_failed', scope);
    }
    if (!(await tx.emailCredentials.consumeCredential(credential.credentialId, at))) {
      // Spent by a concurrent redemption, or deleted with its member while this one waited for their lock: say which.
      const now = await tx.emailCredentials.findCredentialByLookupId(found.lookupId);
      if (now === undefined) throw new SignInRefusal(emailSignInError('magic_link_not_found'), 'member_deleted', scope);
      throw new SignInRefusal(emailSignInError('unable_to_auth_magic_link'), 'already_used', scope);
    }
    return credential;
  }

  /**
   * Checks a one-time code in a transaction of its own, before the sign-in: the newest unspent code
   * of `kind` sent to the address (for the organization) must be `code`. The code is read locked, so
   * concurrent guesses are compared one after the other and none is compared once the limit voided
   * it. A wrong code is counted (voiding the code at the limit) and its refusal audited in that
   * transaction, which commits; then this throws. A right one is returned, to be spent by
   * `spendCode` inside the sign-in's transaction.
   */
  async checkCode(
    context: OperationContext,
    kind: EmailCredentialKind,
    organizationId: string | null,
    emailAddress: string,
    code: string,
    method: string,
  ): Promise<EmailCredential> {
    const outcome = await this.#store.transaction((tx) => this.checkCodeIn(tx, context, kind, organizationId, emailAddress, code, method));
    if (outcome instanceof SignInRefusal) throw outcome;
    return outcome;
  }

  /**
   * `checkCode` inside the caller's transaction, which must commit whatever the answer (the wrong
   * guess counted, the refusal audited): a refusal is returned, already recorded, for the caller to
   * throw once that transaction committed (a sign-in verifier throws it as a KeptRefusal).
   */
  async checkCodeIn(
    tx: Ports,
    context: OperationContext,
    kind: EmailCredentialKind,
    organizationId: string | null,
    emailAddress: string,
    code: string,
    method: string,
  ): Promise<EmailCredential | SignInRefusal> {
    const at = toTimestamp(this.#clock.now());
    const found = await tx.emailCredentials.findLatestCode(kind, organizationId, emailAddress, FOR_UPDATE);
    const refuse = async (why: string, credential?: EmailCredential): Promise<SignInRefusal> => {
      const error = why === 'not_found' ? emailSignInError('otp_code_not_found') : emailSignInError('unable_to_auth_otp_code');
      const refusal = new SignInRefusal(error, why, { organizationId: credential?.organizationId ?? organizationId, memberId: credential?.memberId ?? null, method }, true);
      await this.#recordRefusal(tx, context, refusal);
      return refusal;
    };
    if (found === undefined) return refuse('not_found');
    const { credential } = found;
    if (!isRedeemable(credential, at)) return refuse('expired', credential);
    if (oneTimeCodeMatches(credential.credentialId, code, found.digest)) return credential;
    const attempts = await tx.emailCredentials.recordFailedAttempt(credential.credentialId, ONE_TIME_CODE_MAX_FAILED_ATTEMPTS, at);
    return refuse(attempts !== undefined && attempts >= ONE_TIME_CODE_MAX_FAILED_ATTEMPTS ? 'too_many_attempts' : 'wrong_code', credential);
  }

  /** Spends a code `checkCode` accepted, inside the sign-in's transaction; of two concurrent sign-ins with it, one wins. */
  async spendCode(tx: Ports, credential: EmailCredential, method: string): Promise<void> {
    if (!(await tx.emailCredentials.consumeCredential(credential.credentialId, toTimestamp(this.#clock.now())))) {
      throw new SignInRefusal(emailSignInError('unable_to_auth_otp_code'), 'already_used', { organizationId: credential.organizationId, memberId: credential.memberId, method });
    }
  }

  /**
   * Records a refusal as `member.sign_in_refused`, in a transaction of its own (the sign-in's rolled
   * back), unless it was recorded already, and rethrows its error.
   */
  async refuse(context: OperationContext, refusal: SignInRefusal): Promise<never> {
    if (!refusal.recorded) await this.#store.transaction((tx) => this.#recordRefusal(tx, context, refusal));
    throw refusal.refusal;
  }

  async #recordRefusal(tx: Ports, context: OperationContext, refusal: SignInRefusal): Promise<void> {
    await this.#audit.record(tx.audit, context, {
      type: 'member.sign_in_refused',
      organizationId: refusal.scope.organizationId,
      memberId: refusal.scope.memberId,
      details: { method: refusal.scope.method, why: refusal.why, error_type: refusal.refusal.code },
    });
  }

  #credential(request: ProofRequest, pkceCodeChallenge: string | null): EmailCredential {
    const now = this.#clock.now();
    return {
      credentialId: this.#ids.next('email-credential'),
      kind: request.kind,
      purpose: request.purpose,
      organizationId: request.organizationId,
      memberId: request.memberId,
      emailAddress: request.emailAddress,
      pkceCodeChallenge,
      createdAt: toTimestamp(now),
      expiresAt: toTimestamp(new Date(now.getTime() + request.minutes * 60_000)),
      consumedAt: null,
      failedAttempts: 0,
    };
  }
}
