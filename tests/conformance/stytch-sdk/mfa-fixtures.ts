import type { B2BClient, Member } from 'stytch';
import { totpCode, verifyTotp } from '../../../src/crypto/totp.js';
import type { ManualClock } from '../../../src/platform/clock.js';
import { createEmailOrganization, type EmailOrganization } from './email-sign-in-fixtures.js';
import { givePassword, PASSWORD } from './passwords-sign-in-fixtures.js';

/*
 * Shared setup of the MFA suites (TOTP, recovery codes, SMS codes, end to end): an organization
 * that requires MFA of everyone, members signed in by a primary method (a password) who hold the
 * intermediate session token an app would hold, and authenticator-app codes. Everything goes
 * through the official SDK, as an application's backend would.
 */

/** Routes as the contract names them (expectToMatchResponseSchema keys). */
export const TOTP_CREATE = '/v1/b2b/totp';
export const TOTP_AUTHENTICATE = '/v1/b2b/totp/authenticate';
export const TOTP_MIGRATE = '/v1/b2b/totp/migrate';
export const RECOVERY_CODES_RECOVER = '/v1/b2b/recovery_codes/recover';
export const RECOVERY_CODES_GET = '/v1/b2b/recovery_codes/{organization_id}/{member_id}';
export const RECOVERY_CODES_ROTATE = '/v1/b2b/recovery_codes/rotate';
export const DELETE_TOTP = '/v1/b2b/organizations/{organization_id}/members/{member_id}/totp';

/** Stytch's recovery-code shape. */
export const RECOVERY_CODE = /^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$/;
/** What Stytch prefixes `qr_code` with (note the space). */
export const QR_CODE_PREFIX = 'data:image/png;base64, ';

type OrganizationSettings = Parameters<typeof createEmailOrganization>[1];

/** A fresh organization with `mfa_policy: REQUIRED_FOR_ALL` (and whatever else `settings` says). */
export function createMfaOrganization(client: B2BClient, settings: OrganizationSettings = {}): Promise<EmailOrganization> {
  return createEmailOrganization(client, { mfa_policy: 'REQUIRED_FOR_ALL', ...settings });
}

/** A member after their primary sign-in: who they are and, when MFA is still required, the intermediate session token. */
export interface PrimarySignIn {
  readonly member: Member;
  readonly emailAddress: string;
  /** "" when the sign-in gave a member session (MFA not required). */
  readonly intermediateSessionToken: string;
  /** "" when MFA is still required. */
  readonly sessionToken: string;
  readonly response: Awaited<ReturnType<B2BClient['passwords']['authenticate']>>;
}

/** Signs the address in by password (the member's password is PASSWORD: see newMemberSignedIn). */
export async function signInWithPassword(client: B2BClient, organization: EmailOrganization, emailAddress: string): Promise<PrimarySignIn> {
  const response = await client.passwords.authenticate({ organization_id: organization.organization.organization_id, email_address: emailAddress, password: PASSWORD });
  return { member: response.member, emailAddress, intermediateSessionToken: response.intermediate_session_token, sessionToken: response.session_token, response };
}

/**
 * A new member of the organization (active, created by passwords.migrate with PASSWORD), signed in
 * by password: in a REQUIRED_FOR_ALL organization, holding an intermediate session token.
 */
export async function newMemberSignedIn(client: B2BClient, organization: EmailOrganization, local = 'ada'): Promise<PrimarySignIn> {
  const emailAddress = organization.address(local);
  await givePassword(client, organization.organization, emailAddress);
  const signedIn = await signInWithPassword(client, organization, emailAddress);
  if (organization.organization.mfa_policy === 'REQUIRED_FOR_ALL' && signedIn.intermediateSessionToken === '') throw new Error('expected MFA to be required');
  return signedIn;
}

/** The code the member's authenticator app shows at the server's clock (plus `steps` 30-second steps). */
export function codeAt(secret: string, clock: ManualClock, steps = 0): string {
  return totpCode(secret, new Date(clock.now().getTime() + steps * 30_000));
}

/** Moves the clock to the start of the next 30-second step, so the app shows a code never used before. */
export function nextTotpStep(clock: ManualClock): void {
  const now = clock.now().getTime();
  clock.advance(30_000 - (now % 30_000) + 1_000);
}

/** Six digits that are not the code of the current step or either neighbour (which the server would accept). */
export function wrongCodeAt(secret: string, clock: ManualClock): string {
  for (let candidate = 0; ; candidate += 1) {
    const code = String((Number(codeAt(secret, clock)) + 500_000 + candidate) % 1_000_000).padStart(6, '0');
    if (verifyTotp(secret, code, clock.now()) === undefined) return code;
  }
}

/** A member with an active TOTP registration and a session holding their primary factor and the TOTP factor. */
export interface TotpMember {
  readonly member: Member;
  readonly emailAddress: string;
  readonly secret: string;
  readonly totpRegistrationId: string;
  readonly recoveryCodes: readonly string[];
  readonly sessionToken: string;
  readonly sessionJwt: string;
}

/**
 * A new member of the REQUIRED_FOR_ALL organization who signed in by password, set up an
 * authenticator app (totps.create with the intermediate session token) and completed the sign-in
 * with its first code (totps.authenticate). The clock then moves to the next step, so the app's
 * next code is a fresh one.
 */
export async function newMemberWithTotp(client: B2BClient, clock: ManualClock, organization: EmailOrganization, local = 'ada'): Promise<TotpMember> {
  const signedIn = await newMemberSignedIn(client, organization, local);
  const target = { organization_id: organization.organization.organization_id, member_id: signedIn.member.member_id };
  const created = await client.totps.create({ ...target, intermediate_session_token: signedIn.intermediateSessionToken });
  const done = await client.totps.authenticate({ ...target, code: codeAt(created.secret, clock), intermediate_session_token: signedIn.intermediateSessionToken });
  nextTotpStep(clock);
  return {
    member: done.member,
    emailAddress: signedIn.emailAddress,
    secret: created.secret,
    totpRegistrationId: created.totp_registration_id,
    recoveryCodes: created.recovery_codes,
    sessionToken: done.session_token,
    sessionJwt: done.session_jwt,
  };
}

/** The member signs in by password again: in a REQUIRED_FOR_ALL organization, a new intermediate session token. */
export async function signInAgain(client: B2BClient, organization: EmailOrganization, who: { readonly emailAddress: string }): Promise<string> {
  const signedIn = await signInWithPassword(client, organization, who.emailAddress);
  if (signedIn.intermediateSessionToken === '') throw new Error('expected MFA to be required');
  return signedIn.intermediateSessionToken;
}
