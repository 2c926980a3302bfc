/**
 * Rate limits, as Stytch answers them: past the limit a call gets 429 `too_many_requests` with a
 * `Retry-After` header (ours: Stytch does not document one). Windows are fixed and aligned to the epoch,
 * so every process computes the same window for the same instant and shares one counter.
 */
export type RateLimitName =
  | 'mints'
  | 'searches'
  | 'console_sign_ins'
  | 'email_sends_per_address'
  | 'email_sends_per_client'
  | 'password_attempts_per_client'
  | 'sms_sends_per_number'
  | 'sms_sends_per_member'
  | 'sms_sends_per_organization'
  | 'sms_sends_per_project'
  | 'sso_requests_per_client';

export interface RateLimitPolicy {
  readonly name: RateLimitName;
  /** Requests a key may make per window; the next one is refused. */
  readonly limit: number;
  readonly windowSeconds: number;
}

/** The operator's settings (UNDERSTUDY_RATE_LIMIT*); a limit of 0 turns that one limit off. */
export interface RateLimitSettings {
  readonly enabled: boolean;
  /** Impersonation tokens minted (or refused) per project and minute. */
  readonly mintsPerMinute: number;
  /** Calls per project and minute of each search endpoint (organizations.search, organizations.members.search). */
  readonly searchesPerMinute: number;
  /** Console password attempts per client address and minute, whatever address each one tries. */
  readonly consoleSignInsPerMinute: number;
  /** Magic links and one-time codes sent per email address and minute (whichever organization or flow). */
  readonly emailSendsPerAddressPerMinute: number;
  /** Magic links and one-time codes sent per client address and minute. */
  readonly emailSendsPerClientPerMinute: number;
  /** Password sign-in attempts per client address and minute (optional: 0 when omitted). */
  readonly passwordAttemptsPerClientPerMinute?: number;
  /**
   * SMS codes sent per hour (optional: 0 when omitted): to one phone number, to one member, and by
   * the whole project. Each SMS costs money, so these bound what toll-fraud ("SMS pumping") can send.
   */
  readonly smsSendsPerNumberPerHour?: number;
  readonly smsSendsPerMemberPerHour?: number;
  /** Per organization: one tenant's members (or whoever has its members' passwords) cannot spend the whole project's budget. */
  readonly smsSendsPerOrganizationPerHour?: number;
  readonly smsSendsPerProjectPerHour?: number;
  /**
   * SSO requests per client address and minute (optional: 0 when omitted): sign-ins started at
   * `/v1/public/sso/start` and IdP answers at a connection's callback, which need no secret and are
   * recorded (a request, or the audit event of a refused answer).
   */
  readonly ssoRequestsPerClientPerMinute?: number;
}

/** The limits in force: none when disabled, and none for a limit set to 0. */
export function policiesOf(settings: RateLimitSettings | undefined): RateLimitPolicy[] {
  if (settings === undefined || !settings.enabled) return [];
  const all: RateLimitPolicy[] = [
    { name: 'mints', limit: settings.mintsPerMinute, windowSeconds: 60 },
    { name: 'searches', limit: settings.searchesPerMinute, windowSeconds: 60 },
    { name: 'console_sign_ins', limit: settings.consoleSignInsPerMinute, windowSeconds: 60 },
    { name: 'email_sends_per_address', limit: settings.emailSendsPerAddressPerMinute, windowSeconds: 60 },
    { name: 'email_sends_per_client', limit: settings.emailSendsPerClientPerMinute, windowSeconds: 60 },
    { name: 'password_attempts_per_client', limit: settings.passwordAttemptsPerClientPerMinute ?? 0, windowSeconds: 60 },
    { name: 'sms_sends_per_number', limit: settings.smsSendsPerNumberPerHour ?? 0, windowSeconds: 3600 },
    { name: 'sms_sends_per_member', limit: settings.smsSendsPerMemberPerHour ?? 0, windowSeconds: 3600 },
    { name: 'sms_sends_per_organization', limit: settings.smsSendsPerOrganizationPerHour ?? 0, windowSeconds: 3600 },
    { name: 'sms_sends_per_project', limit: settings.smsSendsPerProjectPerHour ?? 0, windowSeconds: 3600 },
    { name: 'sso_requests_per_client', limit: settings.ssoRequestsPerClientPerMinute ?? 0, windowSeconds: 60 },
  ];
  return all.filter((policy) => policy.limit > 0);
}

export interface RateLimitWindow {
  readonly startMillis: number;
  readonly endMillis: number;
}

/** The fixed window holding `now`: [start, start + windowSeconds). */
export function windowAt(now: Date, windowSeconds: number): RateLimitWindow {
  const length = windowSeconds * 1000;
  const startMillis = Math.floor(now.getTime() / length) * length;
  return { startMillis, endMillis: startMillis + length };
}

/** Whole seconds until the window ends, at least 1: the `Retry-After` value. */
export function secondsUntilEnd(window: RateLimitWindow, now: Date): number {
  return Math.max(1, Math.ceil((window.endMillis - now.getTime()) / 1000));
}
