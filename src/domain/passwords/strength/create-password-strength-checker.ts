import type { PasswordSettings } from '../password-settings.js';
import type { BreachedPasswords } from '../password-strength.js';
import type { ZxcvbnEstimator } from './zxcvbn-estimator.js';
import { PasswordStrengthService } from './password-strength-service.js';

/**
 * The project's password strength checker: its policy from configuration, and the breach source
 * (src/crypto/passwords/breach/create-breached-passwords.ts) or none. `onBreachSourceFailure`
 * receives the cause when the source cannot answer, for the log. `zxcvbn` is where estimates run:
 * the worker pool (src/passwords/zxcvbn/) in the server.
 */
export function createPasswordStrengthChecker(options: {
  settings: PasswordSettings;
  breached: BreachedPasswords | undefined;
  zxcvbn: ZxcvbnEstimator;
  onBreachSourceFailure?: ((error: unknown) => void) | undefined;
}): PasswordStrengthService {
  return new PasswordStrengthService(options);
}
