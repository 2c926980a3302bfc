import type { Random } from './random.js';

/** `test` or `live`, taken from the project id exactly as Stytch does. */
export type Environment = 'test' | 'live';

export type IdPrefix =
  | 'organization'
  | 'member'
  | 'session'
  | 'intermediate-session'
  | 'request-id'
  | 'email'
  | 'jwk'
  | 'project'
  | 'audit-event'
  | 'impersonation-token'
  | 'operator'
  | 'console-session'
  | 'email-credential'
  | 'mail-message'
  | 'member-password'
  | 'member-totp'
  | 'totp-recovery-code'
  | 'phone-number'
  | 'sms-code'
  | 'sms-message'
  | 'webhook-endpoint'
  | 'webhook-delivery'
  | 'impersonation-end-link'
  | 'access-grant'
  // SSO (Stytch's prefixes for connections, registrations and certificates; ours for the rest).
  | 'saml-connection'
  | 'oidc-connection'
  | 'external-connection'
  | 'saml-member-registration'
  | 'oidc-member-registration'
  | 'saml-verification-key'
  | 'saml-signing-key'
  | 'saml-encryption-key'
  | 'sso-request'
  | 'sso-token';

export function environmentOfProject(projectId: string): Environment {
  return projectId.startsWith('project-live-') ? 'live' : 'test';
}

/** Makes `<prefix>-<test|live>-<uuid v4>` ids, Stytch's id format. */
export class IdGenerator {
  readonly #random: Random;
  readonly environment: Environment;

  constructor(random: Random, environment: Environment) {
    this.#random = random;
    this.environment = environment;
  }

  next(prefix: IdPrefix): string {
    return `${prefix}-${this.environment}-${this.#random.uuid()}`;
  }

  #lastMillis = -1;
  #sequence = 0;

  /**
   * An id whose uuid is a UUIDv7 (RFC 9562 §5.7): ids made later sort later as text, and ids made
   * in the same millisecond by this process keep their order through a counter (RFC 9562 §6.2,
   * method 1). Used where readers need records back in the order they were written (audit events).
   */
  nextTimeOrdered(prefix: IdPrefix, now: Date): string {
    let millis = Math.max(now.getTime(), this.#lastMillis);
    this.#sequence = millis === this.#lastMillis ? this.#sequence + 1 : 0;
    // 4096 ids in one millisecond exhaust the counter: borrow the next millisecond rather than wrap.
    if (this.#sequence > 0x0fff) {
      millis += 1;
      this.#sequence = 0;
    }
    this.#lastMillis = millis;
    const random = this.#random.bytes(8);
    const time = millis.toString(16).padStart(12, '0');
    const counter = (0x7000 | (this.#sequence & 0x0fff)).toString(16);
    const variant = ((random[0] ?? 0) & 0x3f) | 0x80;
    const tail = Buffer.concat([Buffer.from([variant]), random.subarray(1, 8)]).toString('hex');
    const uuid = `${time.slice(0, 8)}-${time.slice(8, 12)}-${counter}-${tail.slice(0, 4)}-${tail.slice(4, 16)}`;
    return `${prefix}-${this.environment}-${uuid}`;
  }
}
