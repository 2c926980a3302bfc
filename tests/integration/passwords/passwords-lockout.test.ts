import type { B2BClient } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_SETTINGS } from '../../../src/domain/passwords/password-settings.js';
import { ManualClock } from '../../../src/platform/clock.js';
import { expectStytchRejection, expectToMatchResponseSchema } from '../../support/openapi.js';
import { STORES } from '../../support/stores.js';
import { TEST_ARGON2 } from '../../support/test-constants.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { auditOfRequest, createEmailOrganization, type EmailOrganization } from '../../conformance/stytch-sdk/email-sign-in-fixtures.js';
import {
  argon2idOf,
  failuresOf,
  givePassword,
  MEMBER_GET,
  PASSWORD,
  storedPasswordOf,
  WRONG_CREDENTIALS,
  WRONG_PASSWORD,
} from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';

const THRESHOLD = 3;
const TTL_SECONDS = 600;
const LOCKED = { status: 429, errorType: 'user_lock_limit_reached' } as const;
const AUTHENTICATE_PATH = '/v1/b2b/passwords/authenticate';

/**
 * The user lock: `user_lock_threshold` consecutive wrong passwords for an address in an
 * organization lock it for `user_lock_ttl` seconds, whether or not a member has the address; a
 * success forgets the count. The server's clock is a ManualClock, moved by hand past the lock.
 */
for (const store of STORES) {
  describe(`the user lock on password sign-ins (${store.name})`, () => {
    let server: TestServer;
    let client: B2BClient;
    let clock: ManualClock;
    let acme: EmailOrganization;

    beforeAll(async () => {
      clock = new ManualClock(new Date());
      server = await startTestServer({
        store: store.name,
        clock,
        config: { passwords: { ...DEFAULT_PASSWORD_SETTINGS, userLockThreshold: THRESHOLD, userLockTtlSeconds: TTL_SECONDS } },
      });
      client = server.client;
      acme = await createEmailOrganization(client);
    });
    afterAll(async () => server?.stop());

    const signIn = (email: string, password: string) => client.passwords.authenticate({ organization_id: acme.organization.organization_id, email_address: email, password });
    const raw = (email: string, password: string) =>
      server.fetch(AUTHENTICATE_PATH, { method: 'POST', json: { organization_id: acme.organization.organization_id, email_address: email, password } });

    /** What each of `attempts` answers, as (status, error_type, Retry-After). */
    async function answers(email: string, attempts: readonly string[]) {
      const seen: [number, unknown, string | null][] = [];
      for (const password of attempts) {
        const response = await raw(email, password);
        seen.push([response.status, response.body.error_type, response.headers.get('retry-after')]);
      }
      return seen;
    }

    it('locks a member after the threshold, refuses even the right password with 429 and Retry-After, and shows the lock on the member', async () => {
      const email = acme.address('locked');
      const { member } = await givePassword(client, acme.organization, email);
      const lockedAt = clock.now();
      expect(await answers(email, [WRONG_PASSWORD, WRONG_PASSWORD, WRONG_PASSWORD, PASSWORD])).toEqual([
        [401, 'unauthorized_credentials', null],
        [401, 'unauthorized_credentials', null],
        [401, 'unauthorized_credentials', null],
        [429, 'user_lock_limit_reached', String(TTL_SECONDS)],
      ]);
      const got = await client.organizations.members.get({ organization_id: acme.organization.organization_id, member_id: member.member_id });
      expectToMatchResponseSchema('get', MEMBER_GET, got);
      expect(got.member).toMatchObject({
        is_locked: true,
        lock_created_at: lockedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        lock_expires_at: new Date(lockedAt.getTime() + TTL_SECONDS * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      });
      // Retry-After counts down with the clock; the SDK sees the 429.
      clock.advance(100_000);
      expect((await raw(email, PASSWORD)).headers.get('retry-after')).toBe(String(TTL_SECONDS - 100));
      const refused = await expectStytchRejection(signIn(email, PASSWORD), LOCKED);
      // Audited (who tried, while locked until when), and nothing else written: the lock stands as it was.
      const audited = await auditOfRequest(server, refused.request_id);
      expect(audited.map((event) => [event.type, event.details.why, event.details.error_type])).toEqual([['member.sign_in_refused', 'locked', 'user_lock_limit_reached']]);
      expect(await client.sessions.get({ organization_id: acme.organization.organization_id, member_id: member.member_id }).then((answer) => answer.member_sessions)).toEqual([]);
    });

    it('an unknown address gets the very same answers and the same lock as a member’s', async () => {
      const known = acme.address('twin-known');
      await givePassword(client, acme.organization, known);
      const unknown = acme.address('twin-unknown');
      const attempts = [WRONG_PASSWORD, WRONG_PASSWORD, WRONG_PASSWORD, PASSWORD, WRONG_PASSWORD];
      const forKnown = await answers(known, attempts);
      const forUnknown = await answers(unknown, attempts);
      expect(forUnknown).toEqual(forKnown);
      expect(forKnown.map(([status]) => status)).toEqual([401, 401, 401, 429, 429]);
      const [knownFailures, unknownFailures] = [await failuresOf(server, acme.organization.organization_id, known), await failuresOf(server, acme.organization.organization_id, unknown)];
      expect(unknownFailures).toMatchObject({ failedAttempts: THRESHOLD, lockExpiresAt: knownFailures?.lockExpiresAt });
    });

    it('a right password forgets the failures before the threshold', async () => {
      const email = acme.address('forgiven');
      await givePassword(client, acme.organization, email);
      for (let attempt = 1; attempt < THRESHOLD; attempt += 1) await expectStytchRejection(signIn(email, WRONG_PASSWORD), WRONG_CREDENTIALS);
      expect((await failuresOf(server, acme.organization.organization_id, email))?.failedAttempts).toBe(THRESHOLD - 1);
      expect((await signIn(email, PASSWORD)).member_authenticated).toBe(true);
      expect(await failuresOf(server, acme.organization.organization_id, email)).toBeUndefined();
      // The count starts again: THRESHOLD - 1 more wrong ones do not lock.
      for (let attempt = 1; attempt < THRESHOLD; attempt += 1) await expectStytchRejection(signIn(email, WRONG_PASSWORD), WRONG_CREDENTIALS);
      expect((await signIn(email, PASSWORD)).member_authenticated).toBe(true);
    });

    it('the lock expires: the right password then signs in and lifts the member’s lock; a wrong one counts from one again', async () => {
      const email = acme.address('expiring');
      const { member } = await givePassword(client, acme.organization, email);
      for (let attempt = 0; attempt < THRESHOLD; attempt += 1) await expectStytchRejection(signIn(email, WRONG_PASSWORD), WRONG_CREDENTIALS);
      await expectStytchRejection(signIn(email, PASSWORD), LOCKED);
      clock.advance((TTL_SECONDS - 1) * 1000);
      expect((await raw(email, PASSWORD)).headers.get('retry-after')).toBe('1');
      clock.advance(1000);
      const signedIn = await signIn(email, PASSWORD);
      expect(signedIn.member).toMatchObject({ is_locked: false, lock_created_at: null, lock_expires_at: null });
      expect((await client.organizations.members.get({ organization_id: acme.organization.organization_id, member_id: member.member_id })).member.is_locked).toBe(false);

      for (let attempt = 0; attempt < THRESHOLD; attempt += 1) await expectStytchRejection(signIn(email, WRONG_PASSWORD), WRONG_CREDENTIALS);
      clock.advance(TTL_SECONDS * 1000);
      // An expired lock that was never followed by a success: the next wrong password is the first of a new count.
      await expectStytchRejection(signIn(email, WRONG_PASSWORD), WRONG_CREDENTIALS);
      expect((await failuresOf(server, acme.organization.organization_id, email))?.failedAttempts).toBe(1);
    });

    it('wrong and right passwords for one member at once, across the lock, get only 200, 401 and 429: never a 500', async () => {
      const statuses = new Map<number, number>();
      // A wrong password that locks the address writes the member's lock: on PostgreSQL it must take
      // the member's row before the failures row, as a sign-in does, or the two deadlock.
      for (let round = 0; round < 8; round += 1) {
        const email = acme.address(`mixed-${round}`);
        await givePassword(client, acme.organization, email);
        // THRESHOLD - 1 wrong ones first, so the wrong ones below lock the address while right ones sign in.
        for (let attempt = 1; attempt < THRESHOLD; attempt += 1) await expectStytchRejection(signIn(email, WRONG_PASSWORD), WRONG_CREDENTIALS);
        const answered = await Promise.all([WRONG_PASSWORD, PASSWORD, WRONG_PASSWORD, PASSWORD, PASSWORD].map(async (password) => (await raw(email, password)).status));
        for (const status of answered) statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
      expect([...statuses.keys()].filter((status) => ![200, 401, 429].includes(status))).toEqual([]);
    });

    it('two right sign-ins at once with a migrated hash both succeed, and the stored hash is one valid rehash', async () => {
      const email = acme.address('racing');
      const theirs = await argon2idOf(PASSWORD, { memoryKib: 2048, iterations: 2, parallelism: 1 });
      const { member } = await client.passwords.migrate({ organization_id: acme.organization.organization_id, email_address: email, hash: theirs, hash_type: 'argon_2id' });
      const results = await Promise.all([0, 1, 2].map(() => signIn(email, PASSWORD)));
      expect(results.every((result) => result.member_authenticated && result.member_id === member.member_id)).toBe(true);
      const stored = await storedPasswordOf(server, member.member_id);
      expect(stored?.hash.startsWith(`$argon2id$v=19$m=${TEST_ARGON2.memoryKib},t=${TEST_ARGON2.iterations},p=${TEST_ARGON2.parallelism}$`)).toBe(true);
      expect(stored?.memberPasswordId).toBe(member.member_password_id);
      expect((await signIn(email, PASSWORD)).member_id).toBe(member.member_id);
      await expectStytchRejection(signIn(email, WRONG_PASSWORD), WRONG_CREDENTIALS);
    });
  });
}
