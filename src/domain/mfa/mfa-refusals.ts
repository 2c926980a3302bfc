import type { AuditRecorder } from '../audit/audit-recorder.js';
import type { DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Member } from '../members/member.js';
import type { StorePorts } from '../ports.js';
import { RateLimitedError } from '../rate-limits/errors.js';
import { KeptRefusal } from '../sessions/sign-in/verifier.js';
import type { MfaGuessLimit } from './mfa-guess-limit.js';

/*
 * Refusals of a second factor that are evidence (a wrong, replayed or reused code; the guess bound
 * reached): each is recorded as `member.sign_in_refused` in the sign-in's transaction, which then
 * commits that event, and what the verifier counted, and nothing else (KeptRefusal).
 */

/** `error`, to be thrown by a verifier, with its event recorded: `method` and `details` say what was refused and why. */
export async function keptMfaRefusal(
  tx: Pick<StorePorts, 'audit'>,
  audit: AuditRecorder,
  context: OperationContext,
  member: Member,
  method: string,
  error: DomainError,
  details: Readonly<Record<string, unknown>>,
): Promise<KeptRefusal> {
  await audit.record(tx.audit, context, {
    type: 'member.sign_in_refused',
    organizationId: member.organizationId,
    memberId: member.memberId,
    details: { method, error_type: error.code, ...details },
  });
  return new KeptRefusal(error);
}

/** The member's guess bound (mfa-guess-limit.ts), its refusal recorded: someone is still trying codes after the bound. */
export async function checkGuessBound(
  tx: Pick<StorePorts, 'audit' | 'rateLimits'>,
  dependencies: { readonly guesses: Pick<MfaGuessLimit, 'check'>; readonly audit: AuditRecorder },
  context: OperationContext,
  member: Member,
  method: string,
): Promise<void> {
  try {
    await dependencies.guesses.check(tx, member.memberId);
  } catch (error) {
    if (error instanceof RateLimitedError) throw await keptMfaRefusal(tx, dependencies.audit, context, member, method, error, { why: 'guess_limit' });
    throw error;
  }
}
