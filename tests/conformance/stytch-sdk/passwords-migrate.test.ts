import bcrypt from 'bcryptjs';
import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { emailFactor } from '../../support/sessions.js';
import { STORES } from '../../support/stores.js';
import { TEST_ARGON2 } from '../../support/test-constants.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { idPattern } from '../../support/wire-formats.js';
import { auditOfRequest, createEmailOrganization, createMember, type EmailOrganization, membersOf, sessionsOf } from './email-sign-in-fixtures.js';
import { argon2idOf, PASSWORD, PASSWORD_AUTHENTICATE, PASSWORD_MIGRATE, storedPasswordOf, WRONG_CREDENTIALS, WRONG_PASSWORD } from './passwords-sign-in-fixtures.js';
import { minutesFrom, startSession } from './session-fixtures.js';

/** Our own argon2id PHC strings with the test server's parameters start so. */
const CURRENT_ARGON2ID = `$argon2id$v=19$m=${TEST_ARGON2.memoryKib},t=${TEST_ARGON2.iterations},p=${TEST_ARGON2.parallelism}$`;

/**
 * client.passwords.migrate as Stytch answers it: the member created (active, address verified) or
 * found and updated, the other system's hash kept until the member's first sign-in replaces it with
 * our argon2id, and refusals that write nothing.
 */
for (const store of STORES) {
  describe(`client.passwords.migrate (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({ store: store.name, clock });
      client = server.client;
      acme = await createEmailOrganization(client);
    });
    afterAll(async () => server?.stop());

    const organizationId = () => acme.organization.organization_id;

    it('creates an active member with a verified address and the fields given; the hash signs in and is then replaced by our argon2id', async () => {
      const email = acme.address('imported');
      // Other parameters than ours: the first sign-in rehashes.
      const theirs = await argon2idOf(PASSWORD, { memoryKib: 2048, iterations: 2, parallelism: 1 });
      const migrated = await client.passwords.migrate({
        organization_id: organizationId(),
        email_address: email,
        hash: theirs,
        hash_type: 'argon_2id',
        name: 'Ada Lovelace',
        trusted_metadata: { plan: 'gold' },
        untrusted_metadata: { theme: 'dark' },
        roles: ['stytch_admin'],
        mfa_phone_number: '+12025550123',
        set_phone_number_verified: true,
        external_id: 'legacy-4711',
      });
      expectToMatchResponseSchema('post', PASSWORD_MIGRATE, migrated);
      expect(migrated).toMatchObject({ status_code: 200, member_created: true, member_id: migrated.member.member_id });
      expect(migrated.member).toMatchObject({
        email_address: email,
        status: 'active',
        email_address_verified: true,
        name: 'Ada Lovelace',
        trusted_metadata: { plan: 'gold' },
        untrusted_metadata: { theme: 'dark' },
        mfa_phone_number: '+12025550123',
        mfa_phone_number_verified: true,
        external_id: 'legacy-4711',
      });
      expect(migrated.member.roles.map((role) => role.role_id)).toContain('stytch_admin');
      expect(migrated.member.member_password_id).toMatch(idPattern('member-password'));
      expect(migrated.organization.organization_id).toBe(organizationId());
      expect((await client.organizations.members.get({ organization_id: organizationId(), member_id: migrated.member_id })).member).toEqual(migrated.member);
      expect((await auditOfRequest(server, migrated.request_id)).map((event) => event.type)).toEqual(['member.created', 'member.password_set']);
      expect(await storedPasswordOf(server, migrated.member_id)).toMatchObject({ hashType: 'argon_2id', hash: theirs });

      await expectStytchRejection(client.passwords.authenticate({ organization_id: organizationId(), email_address: email, password: WRONG_PASSWORD }), WRONG_CREDENTIALS);
      expect((await storedPasswordOf(server, migrated.member_id))?.hash).toBe(theirs);
      const signedIn = await client.passwords.authenticate({ organization_id: organizationId(), email_address: email, password: PASSWORD });
      expectToMatchResponseSchema('post', PASSWORD_AUTHENTICATE, signedIn);
      const stored = await storedPasswordOf(server, migrated.member_id);
      expect(stored?.hashType).toBe('argon_2id');
      expect(stored?.hash.startsWith(CURRENT_ARGON2ID)).toBe(true);
      expect(stored?.hash).not.toBe(theirs);
      expect(stored?.memberPasswordId).toBe(migrated.member.member_password_id);
      // The rehash is the same password.
      expect((await client.passwords.authenticate({ organization_id: organizationId(), email_address: email, password: PASSWORD })).member_id).toBe(migrated.member_id);
    });

    it('a bcrypt hash signs in and is replaced by argon2id at the first sign-in', async () => {
      const email = acme.address('bcrypt');
      const theirs = bcrypt.hashSync(PASSWORD, 4);
      const migrated = await client.passwords.migrate({ organization_id: organizationId(), email_address: email, hash: theirs, hash_type: 'bcrypt' });
      expect(await storedPasswordOf(server, migrated.member_id)).toMatchObject({ hashType: 'bcrypt', hash: theirs });
      expect((await client.passwords.authenticate({ organization_id: organizationId(), email_address: email, password: PASSWORD })).member_id).toBe(migrated.member_id);
      const stored = await storedPasswordOf(server, migrated.member_id);
      expect(stored?.hashType).toBe('argon_2id');
      expect(stored?.hash.startsWith(CURRENT_ARGON2ID)).toBe(true);
    });

    it('an existing pending member is found (member_created false), becomes active with a verified address, and keeps their external_id', async () => {
      const email = acme.address('pending');
      const existing = await client.organizations.members.create({ organization_id: organizationId(), email_address: email, create_member_as_pending: true, external_id: 'first-id' });
      const session = await startSession(server, existing.member, { factor: emailFactor(email, minutesFrom(clock.now(), 0)) });
      const migrated = await client.passwords.migrate({
        organization_id: organizationId(),
        email_address: email.toUpperCase(),
        hash: await argon2idOf(PASSWORD),
        hash_type: 'argon_2id',
        name: 'Grace',
        external_id: 'ignored-id',
      });
      expectToMatchResponseSchema('post', PASSWORD_MIGRATE, migrated);
      expect(migrated).toMatchObject({ member_created: false, member_id: existing.member.member_id });
      expect(migrated.member).toMatchObject({ status: 'active', email_address_verified: true, name: 'Grace', external_id: 'first-id' });
      expect((await auditOfRequest(server, migrated.request_id)).map((event) => event.type)).toEqual(['member.updated', 'member.password_set']);
      // preserve_existing_sessions concerns SSO sessions, of which there are none: a migration ends no session.
      expect((await sessionsOf(client, existing.member)).map((live) => live.member_session_id)).toEqual([session.memberSessionId]);
      expect((await client.passwords.authenticate({ organization_id: organizationId(), email_address: email, password: PASSWORD })).member_id).toBe(existing.member.member_id);
    });

    it('replaces the password of a member who has one; an unchanged active member writes only the password', async () => {
      const email = acme.address('twice');
      const first = await client.passwords.migrate({ organization_id: organizationId(), email_address: email, hash: await argon2idOf(PASSWORD), hash_type: 'argon_2id' });
      const second = await client.passwords.migrate({ organization_id: organizationId(), email_address: email, hash: bcrypt.hashSync(WRONG_PASSWORD, 4), hash_type: 'bcrypt' });
      expect(second).toMatchObject({ member_created: false, member_id: first.member_id });
      expect(second.member.member_password_id).toBe(first.member.member_password_id);
      expect((await auditOfRequest(server, second.request_id)).map((event) => event.type)).toEqual(['member.password_set']);
      await expectStytchRejection(client.passwords.authenticate({ organization_id: organizationId(), email_address: email, password: PASSWORD }), WRONG_CREDENTIALS);
      expect((await client.passwords.authenticate({ organization_id: organizationId(), email_address: email, password: WRONG_PASSWORD })).member_id).toBe(first.member_id);
    });

    it('two migrations of a new address at once make one member', async () => {
      const email = acme.address('race');
      const hash = await argon2idOf(PASSWORD);
      const results = await Promise.all([0, 1].map(() => client.passwords.migrate({ organization_id: organizationId(), email_address: email, hash, hash_type: 'argon_2id' })));
      expect(new Set(results.map((result) => result.member_id)).size).toBe(1);
      expect(results.map((result) => result.member_created).sort()).toEqual([false, true]);
      expect((await membersOf(client, acme.organization)).filter((member) => member.email_address === email)).toHaveLength(1);
    });

    it.each([
      ['an unknown hash_type', { hash_type: 'sha_256' }, 'invalid_hash_type'],
      ['an argon_2id hash that is no PHC string', { hash_type: 'argon_2id', hash: 'not-a-hash' }, 'invalid_argon_2_hash'],
      ['a malformed bcrypt hash', { hash_type: 'bcrypt', hash: '$2b$10$short' }, 'invalid_bcrypt_hash'],
      ['a configuration of another hash type', { hash_type: 'bcrypt', hash: '$2b$04$abcdefghijklmnopqrstuuWq8i7JdWw1bfmZlSyB7kbwWgkuiR2ai', md_5_config: { prepend_salt: 'x', append_salt: '' } }, 'invalid_hash_config'],
      ['a role that does not exist', { roles: ['no-such-role'] }, 'invalid_rbac_role_id'],
      ['stytch_member as a role', { roles: ['stytch_member'] }, 'cannot_assign_default_rbac_role_id'],
      ['an invalid email address', { email_address: 'not-an-address' }, 'invalid_email'],
      ['an invalid phone number', { mfa_phone_number: '555-0123' }, 'invalid_phone_number'],
      ['an invalid external_id', { external_id: 'has spaces' }, 'invalid_member_external_id'],
    ])('refuses %s with 400 and writes nothing', async (_case, change, errorType) => {
      const email = acme.address('refused');
      const body = { organization_id: organizationId(), email_address: email, hash: await argon2idOf(PASSWORD), hash_type: 'argon_2id', ...change };
      const error = await expectStytchRejection(client.passwords.migrate(body), { status: 400, errorType });
      expect((await membersOf(client, acme.organization)).filter((member) => member.email_address === email)).toEqual([]);
      expect(await auditOfRequest(server, error.request_id)).toEqual([]);
    });

    it('refuses an external_id another member holds (400) and an unknown organization (404), writing nothing', async () => {
      const holder = await createMember(client, acme.organization, acme.address('holder'));
      await client.organizations.members.update({ organization_id: organizationId(), member_id: holder.member_id, external_id: 'taken-id' });
      const email = acme.address('clash');
      const hash = await argon2idOf(PASSWORD);
      await expectStytchRejection(client.passwords.migrate({ organization_id: organizationId(), email_address: email, hash, hash_type: 'argon_2id', external_id: 'taken-id' }), {
        status: 400,
        errorType: 'duplicate_member_external_id',
      });
      await expectStytchRejection(client.passwords.migrate({ organization_id: 'organization-test-00000000-0000-4000-8000-000000000000', email_address: email, hash, hash_type: 'argon_2id' }), {
        status: 404,
        errorType: 'organization_not_found',
      });
      expect((await membersOf(client, acme.organization)).filter((member) => member.email_address === email)).toEqual([]);
    });
  });
}
