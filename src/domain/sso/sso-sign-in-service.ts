import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { retryOnceOnDuplicate } from '../email-sign-in/email-member-rules.js';
import { SignInRefusal } from '../email-sign-in/email-proofs.js';
import { checkLocale } from '../email-sign-in/send-checks.js';
import type { AuthOutcome } from '../sessions/sign-in/auth-outcome.js';
import type { SignIn, SignInOptions } from '../sessions/sign-in/pipeline.js';
import { SSO_METHOD, SsoVerifier, type SsoSignInPorts } from './sso-verifier.js';

export interface SsoAuthenticateInput extends SignInOptions {
  readonly ssoToken: string;
  readonly pkceCodeVerifier?: string | undefined;
}

/**
 * sso.authenticate: spends the SSO token an IdP's verified answer ended with (SsoFlows) and signs its
 * member in through the pipeline, which decides between a session and an intermediate session
 * (MFA), or adds the factor to a presented session of the same member. Every refusal of a
 * presented token is audited as `member.sign_in_refused` (method `sso`), in a transaction of its
 * own: the sign-in's rolled back, so a refusal writes nothing else.
 */
export class SsoSignInService {
  readonly #store: Transactional<SsoSignInPorts>;
  readonly #signIn: SignIn<SsoSignInPorts>;
  readonly #clock: Clock;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;

  constructor(dependencies: { store: Transactional<SsoSignInPorts>; signIn: SignIn<SsoSignInPorts>; clock: Clock; ids: IdGenerator; audit: AuditRecorder }) {
    this.#store = dependencies.store;
    this.#signIn = dependencies.signIn;
    this.#clock = dependencies.clock;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
  }

  async authenticate(context: OperationContext, input: SsoAuthenticateInput): Promise<AuthOutcome> {
    // The language of an SMS code the sign-in may send (MFA): one of Stytch's locales.
    checkLocale(input.locale);
    const verifier = new SsoVerifier({ clock: this.#clock, ids: this.#ids, audit: this.#audit }, { token: input.ssoToken, pkceCodeVerifier: input.pkceCodeVerifier });
    try {
      // Two first sign-ins of one new person through two tokens at once both create the member: the
      // loser's insert fails on the address, and its rerun finds the member the winner created.
      return await retryOnceOnDuplicate(() => this.#signIn.signIn(context, verifier, input));
    } catch (error) {
      if (error instanceof SignInRefusal) return this.#refuse(context, error);
      // The token was good but the pipeline refused the sign-in (an intermediate session of another
      // member, say): its transaction rolled the token back; the attempt is still recorded.
      if (isDomainError(error) && verifier.verified !== undefined) {
        return this.#refuse(context, new SignInRefusal(error, error.code, { ...verifier.verified, method: SSO_METHOD }));
      }
      throw error;
    }
  }

  async #refuse(context: OperationContext, refusal: SignInRefusal): Promise<never> {
    await this.#store.transaction((tx) =>
      this.#audit.record(tx.audit, context, {
        type: 'member.sign_in_refused',
        organizationId: refusal.scope.organizationId,
        memberId: refusal.scope.memberId,
        details: { method: refusal.scope.method, why: refusal.why, error_type: refusal.refusal.code },
      }),
    );
    throw refusal.refusal;
  }
}
