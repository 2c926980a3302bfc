import { type DomainError, isDomainError } from '../../common/domain-error.js';
import { sharedError } from '../../common/errors.js';
import { emptyAsAbsent } from '../../common/optional-text.js';
import type { PasswordSettings } from '../password-settings.js';
import type { BreachedPasswords, PasswordStrength, PasswordStrengthChecker } from '../password-strength.js';
import { ludsFeedback, meetsLuds } from './luds.js';
import type { ZxcvbnEstimator } from './zxcvbn-estimator.js';

/** zxcvbn's verdict: 3 ("safely unguessable") or more. */
const ZXCVBN_MIN_SCORE = 3;

/**
 * Judges passwords by the project's policy (zxcvbn or LUDS) and, when asked and a breach source is
 * configured, by the breach source. Both feedback objects are always computed, so an answer is
 * complete whichever policy is in force; under LUDS the score is zxcvbn's, for information only.
 *
 * A breach source that cannot answer (a range API timing out, an unreadable range file) makes the
 * check fail with `server_unavailable` (503, retryable) rather than call the password safe or
 * answer 500: a new password is never accepted unchecked, and the caller is told to retry.
 */
export class PasswordStrengthService implements PasswordStrengthChecker {
  readonly #settings: PasswordSettings;
  readonly #breached: BreachedPasswords | undefined;
  readonly #zxcvbn: ZxcvbnEstimator;
  readonly #onBreachSourceFailure: (error: unknown) => void;

  constructor(dependencies: {
    settings: PasswordSettings;
    breached: BreachedPasswords | undefined;
    /** Runs zxcvbn off the event loop (src/passwords/zxcvbn/); its refusals (429, 503) reach the caller as they are. */
    zxcvbn: ZxcvbnEstimator;
    /** Told why a breach lookup failed (for the server log); the client only sees server_unavailable. */
    onBreachSourceFailure?: ((error: unknown) => void) | undefined;
  }) {
    this.#settings = dependencies.settings;
    this.#breached = dependencies.breached;
    this.#zxcvbn = dependencies.zxcvbn;
    this.#onBreachSourceFailure = dependencies.onBreachSourceFailure ?? (() => undefined);
  }

  /** New passwords are checked against the breach source: the setting is on and there is a source. */
  get breachDetectionOnCreate(): boolean {
    return this.#settings.checkBreachOnCreation && this.#breached !== undefined;
  }

  /**
   * passwords.strengthCheck: the address (when given) counts against the password, and only then
   * is the breach source consulted, as for a password being set. An empty address is no address
   * (the frontend SDKs send "" for an option left out).
   */
  strengthCheck(request: { readonly password: string; readonly emailAddress?: string | undefined }): Promise<PasswordStrength> {
    const { password } = request;
    const emailAddress = emptyAsAbsent(request.emailAddress?.trim());
    return this.check(password, {
      userInputs: emailAddress === undefined ? [] : [emailAddress],
      checkBreach: emailAddress !== undefined && this.breachDetectionOnCreate,
    });
  }

  async check(password: string, options: { readonly userInputs: readonly string[]; readonly checkBreach: boolean }): Promise<PasswordStrength> {
    // Both started before either is awaited, so that the range request travels while zxcvbn computes.
    const breachLookup = options.checkBreach && this.#breached !== undefined ? this.#lookUp(this.#breached, password) : Promise.resolve(false);
    const estimate = await this.#zxcvbn.estimate(password, options.userInputs);
    const luds = ludsFeedback(password, {
      minLength: this.#settings.ludsMinPasswordLength,
      minComplexity: this.#settings.ludsMinPasswordComplexity,
    });
    const breached = await breachLookup;
    if (isDomainError(breached)) throw breached;
    const meetsPolicy = this.#settings.validationPolicy === 'luds' ? meetsLuds(luds) : estimate.score >= ZXCVBN_MIN_SCORE;
    return {
      validPassword: meetsPolicy && !breached,
      score: estimate.score,
      breachedPassword: breached,
      strengthPolicy: this.#settings.validationPolicy,
      breachDetectionOnCreate: this.breachDetectionOnCreate,
      ludsFeedback: luds,
      zxcvbnFeedback: { warning: estimate.warning, suggestions: estimate.suggestions },
    };
  }

  /** Stops zxcvbn's worker threads (server shutdown). */
  close(): Promise<void> {
    return this.#zxcvbn.close();
  }

  /** Never rejects (it may be left unawaited when zxcvbn refuses): a failure comes back as the error to throw. */
  async #lookUp(source: BreachedPasswords, password: string): Promise<boolean | DomainError> {
    try {
      return await source.isBreached(password);
    } catch (error) {
      this.#onBreachSourceFailure(error);
      return sharedError('server_unavailable', 'The password breach check could not be completed right now. Please retry the request.');
    }
  }
}
