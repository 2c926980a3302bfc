import { hash as argon2Hash } from '@node-rs/argon2';
import type { B2BClient, Organization } from 'stytch';
import type { StoredPassword } from '../../../src/domain/passwords/stored-password.js';
import type { TestServer } from '../../support/test-server.js';
import { TEST_ARGON2 } from '../../support/test-constants.js';

/** Routes as the contract names them (expectToMatchResponseSchema keys). */
export const PASSWORD_AUTHENTICATE = '/v1/b2b/passwords/authenticate';
export const PASSWORD_MIGRATE = '/v1/b2b/passwords/migrate';
export const EXISTING_PASSWORD_RESET = '/v1/b2b/passwords/existing_password/reset';
export const SESSION_RESET = '/v1/b2b/passwords/session/reset';
export const REQUIRE_RESET = '/v1/b2b/passwords/email/require_reset';
export const DELETE_PASSWORD = '/v1/b2b/organizations/{organization_id}/members/passwords/{member_password_id}';
export const MEMBER_GET = '/v1/b2b/organizations/{organization_id}/member';

/** Strong by zxcvbn (score 3 or more), in no breach range. */
export const PASSWORD = 'Violet-Harbor-Lantern-93';
export const NEW_PASSWORD = 'Quiet-Meadow-Falcon-58';
export const WRONG_PASSWORD = 'Violet-Harbor-Lantern-94';

export const WRONG_CREDENTIALS = { status: 401, errorType: 'unauthorized_credentials' } as const;

/**
 * An argon2id PHC string of `password`, as another system would have stored it; with the test
 * server's own parameters unless `parameters` says otherwise (then the first sign-in rehashes it).
 */
export function argon2idOf(password: string, parameters: { memoryKib: number; iterations: number; parallelism: number } = TEST_ARGON2): Promise<string> {
  return argon2Hash(password, { algorithm: 2, memoryCost: parameters.memoryKib, timeCost: parameters.iterations, parallelism: parameters.parallelism });
}

/** Gives the address a password through passwords.migrate (creating an active member when there is none). */
export async function givePassword(client: B2BClient, organization: Organization, emailAddress: string, password = PASSWORD) {
  return client.passwords.migrate({ organization_id: organization.organization_id, email_address: emailAddress, hash: await argon2idOf(password), hash_type: 'argon_2id' });
}

/** The member's password as stored (hash and all), read from the database: what no API answers. */
export async function storedPasswordOf(server: TestServer, memberId: string): Promise<StoredPassword | undefined> {
  return server.server.store.passwords.findPassword(memberId);
}

/** The failed attempts counted for an address in an organization, as stored. */
export async function failuresOf(server: TestServer, organizationId: string, emailAddress: string) {
  return server.server.store.passwords.findFailures(organizationId, emailAddress);
}
