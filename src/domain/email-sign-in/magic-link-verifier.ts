import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { Environment } from '../../platform/ids.js';
import type { SignInVerifier, VerifiedFactor } from '../sessions/sign-in/verifier.js';
import type { EmailProofs } from './email-proofs.js';
import { checkSubject, lockSubject, signInSubject, type EmailSignInPorts, type EmailSubject } from './email-sign-in-subject.js';
import { emailSignInError } from './errors.js';

/**
 * magicLinks.authenticate's sign-in method: an organization's magic link (login, signup or
 * invite), spent inside the pipeline's transaction, so of concurrent redemptions exactly one gets a
 * session. Discovery links are not among the kinds it accepts: one presented here is refused as
 * unknown (`magic_link_not_found`). Every refusal is a SignInRefusal, audited by the caller.
 */
export class MagicLinkVerifier implements SignInVerifier<EmailSignInPorts> {
  readonly #token: string;
  readonly #pkceCodeVerifier: string | undefined;
  readonly #proofs: Pick<EmailProofs, 'findMagicLink' | 'spendMagicLink'>;
  readonly #clock: Clock;
  readonly #environment: Environment;
  /** Who the link was for, once it was found and spent: a refusal by the pipeline after that is filed under them. */
  verified: { readonly organizationId: string | null; readonly memberId: string | null } | undefined;

  constructor(dependencies: { proofs: Pick<EmailProofs, 'findMagicLink' | 'spendMagicLink'>; clock: Clock; environment: Environment }, input: { token: string; pkceCodeVerifier: string | undefined }) {
    this.#token = input.token;
    this.#pkceCodeVerifier = input.pkceCodeVerifier;
    this.#proofs = dependencies.proofs;
    this.#clock = dependencies.clock;
    this.#environment = dependencies.environment;
  }

  async verify(tx: EmailSignInPorts): Promise<VerifiedFactor<EmailSignInPorts>> {
    // A plain read first, to lock whom the link names before its row is spent (lockSubject); an
    // unknown or discovery token locks nothing and is refused by spendMagicLink below.
    const found = await this.#proofs.findMagicLink(tx, this.#token);
    const subject: EmailSubject = found?.credential.kind === 'magic_link' ? await lockSubject(tx, found.credential) : { organization: undefined, member: undefined };
    const credential = await this.#proofs.spendMagicLink(tx, found, ['magic_link'], this.#pkceCodeVerifier, 'magic_link');
    const rules = { method: 'magic_link' as const, gone: () => emailSignInError('magic_link_not_found'), at: toTimestamp(this.#clock.now()), environment: this.#environment };
    const verified = await signInSubject(tx, checkSubject(subject, credential, rules), credential, rules);
    this.verified = { organizationId: credential.organizationId, memberId: credential.memberId };
    return verified;
  }
}
