import type { PasswordSettings } from '../password-settings.js';
import type { BreachedPasswords } from '../password-strength.js';
import { PasswordStrengthService } from './password-strength-service.js';

/**
 * The project's password strength checker: its policy from configuration, and the breach source
 * (src/crypto/passwords/breach/create-breached-passwords.ts) or none. `onBreachSourceFailure`
 * receives the cause when the source cannot answer, for the log.
 */
export function createPasswordStrengthChecker(options: {
  settings: PasswordSettings;
  breached: BreachedPasswords | undefined;
  onBreachSourceFailure?: ((error: unknown) => void) | undefined;
}): PasswordStrengthService {
  return new PasswordStrengthService(options);
}
