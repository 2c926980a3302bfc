import { randomBytes } from 'node:crypto';
import type { Member, Organization } from 'stytch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newTotpSecret } from '../../../src/crypto/totp.js';
import { STORES } from '../../support/stores.js';
import { uniqueSuffix } from '../../support/wire-formats.js';
import { argon2idOf, PASSWORD } from '../../conformance/stytch-sdk/passwords-sign-in-fixtures.js';
import { type ConsoleClient, csrfIn } from './console-client.js';
import { type ConsoleHarness, startConsoleHarness } from './console-harness.js';

const STEP = 30_000;
const NOT_ALLOWED = 'Your role does not allow this.';
const REASON_REQUIRED = 'A reason is required, up to 1024 characters.';
const RESET_TYPES = ['member.totp_deleted', 'member.mfa_phone_number_deleted'];

/** A member enrolled in MFA as an import from another system would be: a verified phone and an active authenticator app. */
interface Enrolled {
  readonly organization: Organization;
  readonly member: Member;
  readonly phone: string;
  readonly secret: string;
  readonly recoveryCodes: readonly string[];
}

let phoneCount = 0;

describe.each(STORES)('console: admins reset a member’s TOTP or MFA phone on $name', (factory) => {
  let harness: ConsoleHarness;
  let admin: ConsoleClient;
  let adminEmail: string;
  let adminId: string;
  beforeAll(async () => {
    harness = await startConsoleHarness({ store: factory.name });
    const created = await harness.createOperator('admin');
    harness.clock.advance(STEP);
    admin = await harness.signedIn(created);
    adminEmail = created.emailAddress;
    adminId = created.operatorId;
  });
  afterAll(() => harness.stop());

  const client = () => harness.server.client;

  async function enrolledMember(): Promise<Enrolled> {
    const suffix = uniqueSuffix();
    const { organization } = await client().organizations.create({ organization_name: `MFA Reset ${suffix}`, organization_slug: `mfa-reset-${suffix}` });
    phoneCount += 1;
    const phone = `+1415555${String(phoneCount).padStart(4, '0')}`;
    const migrated = await client().passwords.migrate({
      organization_id: organization.organization_id,
      email_address: `ann-${suffix}@members.example`,
      hash: await argon2idOf(PASSWORD),
      hash_type: 'argon_2id',
      mfa_phone_number: phone,
      set_phone_number_verified: true,
    });
    const secret = newTotpSecret(randomBytes(20));
    const totp = await client().totps.migrate({ organization_id: organization.organization_id, member_id: migrated.member.member_id, secret, recovery_codes: [] });
    const { member } = await client().organizations.members.update({
      organization_id: organization.organization_id,
      member_id: migrated.member.member_id,
      mfa_enrolled: true,
      default_mfa_method: 'totp',
    });
    expect(member).toMatchObject({ mfa_phone_number: phone, mfa_phone_number_verified: true, totp_registration_id: totp.totp_registration_id, mfa_enrolled: true, default_mfa_method: 'totp' });
    return { organization, member, phone, secret, recoveryCodes: totp.recovery_codes };
  }

  const memberPath = (who: Enrolled, organizationId = who.organization.organization_id) => `/console/organizations/${organizationId}/members/${who.member.member_id}`;
  const current = async (who: Enrolled) => (await client().organizations.members.get({ organization_id: who.organization.organization_id, member_id: who.member.member_id })).member;
  const resetEvents = async (who: Enrolled) => (await harness.auditEvents()).filter((event) => event.memberId === who.member.member_id && RESET_TYPES.includes(event.type));

  it('the member page shows MFA enrolment to every role, never a secret or recovery code; only admins get reset links', async () => {
    const who = await enrolledMember();
    const viewer = await harness.signedIn(await harness.createOperator('viewer'));
    for (const [browser, isAdmin] of [
      [viewer, false],
      [admin, true],
    ] as const) {
      const page = await browser.get(memberPath(who));
      expect(page.status).toBe(200);
      const section = page.text.slice(page.text.indexOf('<section class="card" aria-labelledby="mfa">'), page.text.indexOf('</section>', page.text.indexOf('aria-labelledby="mfa"')));
      expect(section).toContain('<dt>MFA enrolled</dt><dd>yes</dd>');
      expect(section).toContain('<dt>Default MFA method</dt><dd>totp</dd>');
      expect(section).toContain(`${who.phone} <span class="badge ok">verified</span>`);
      expect(section).toContain(`<span class="badge ok">active</span> <code>${who.member.totp_registration_id}</code>`);
      expect(page.text).not.toContain(who.secret);
      for (const code of who.recoveryCodes) expect(page.text).not.toContain(code);
      expect(section.includes(`${memberPath(who)}/reset-totp`)).toBe(isAdmin);
      expect(section.includes(`${memberPath(who)}/reset-mfa-phone`)).toBe(isAdmin);
    }
  });

  it('an admin resets the TOTP with a reason: the registration is gone, the page and the audit trail say who did it and why', async () => {
    const who = await enrolledMember();
    const path = `${memberPath(who)}/reset-totp`;
    const confirmation = await admin.get(path);
    expect(confirmation.status).toBe(200);
    expect(confirmation.text).toContain(`Reset TOTP of ${who.member.email_address}`);
    const csrf = csrfIn(confirmation.text) ?? '';

    // No CSRF token: 403. No reason, a blank one, one too long or with a control character: 400. Nothing written.
    expect((await admin.post(path, { reason: 'Ticket 1' })).status).toBe(403);
    for (const [reason, message] of [
      [undefined, REASON_REQUIRED],
      ['  ', REASON_REQUIRED],
      ['x'.repeat(1025), REASON_REQUIRED],
      ['Ticket\u0007 1', 'The reason must not contain control characters'],
    ] as const) {
      const refused = await admin.post(path, { _csrf: csrf, ...(reason !== undefined && { reason }) });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain(message);
    }
    expect((await current(who)).totp_registration_id).toBe(who.member.totp_registration_id);
    expect(await resetEvents(who)).toEqual([]);

    const reason = 'Ticket 7001: lost phone <script>alert(1)</script>';
    const reset = await admin.post(path, { _csrf: csrf, reason });
    expect(reset.status).toBe(303);
    expect(reset.location).toBe(`${memberPath(who)}?reset=reset-totp`);
    const after = await current(who);
    expect(after).toMatchObject({ totp_registration_id: '', default_mfa_method: '', mfa_phone_number: who.phone, mfa_phone_number_verified: true });
    const [event, ...more] = await resetEvents(who);
    expect(more).toEqual([]);
    expect(event?.type).toBe('member.totp_deleted');
    expect(event?.actor).toEqual({ type: 'operator', operatorId: adminId, emailAddress: adminEmail });
    expect(event?.details.reason).toBe(reason);
    expect(JSON.stringify(event)).not.toContain(who.secret);

    const page = await admin.get(reset.location ?? '');
    expect(page.text).toContain('TOTP reset.');
    expect(page.text).toContain('<dt>TOTP</dt><dd>none</dd>');

    const trailPath = `/console/audit?${new URLSearchParams({ trail: 'member', organization: who.organization.organization_slug, member: who.member.member_id })}`;
    expect(page.text).toContain(`/console/audit?trail=member&#38;organization=${who.organization.organization_id}&#38;member=${who.member.member_id}`);
    const trail = await admin.get(trailPath);
    expect(trail.status).toBe(200);
    const row = trail.text.split('<tr>').find((candidate) => candidate.includes('member.totp_deleted')) ?? '';
    expect(row).toContain(`operator ${adminEmail}`);
    expect(row).toContain(who.member.member_id);
    expect(row).toContain('Ticket 7001: lost phone &#60;script&#62;alert(1)&#60;/script&#62;');
    expect(trail.text).not.toContain('<script>alert(1)');
  });

  it('an admin removes the MFA phone number with a reason', async () => {
    const who = await enrolledMember();
    const path = `${memberPath(who)}/reset-mfa-phone`;
    const confirmation = await admin.get(path);
    expect(confirmation.text).toContain(`Remove MFA phone number of ${who.member.email_address}`);
    const reset = await admin.post(path, { _csrf: csrfIn(confirmation.text) ?? '', reason: 'Ticket 7002: new number' });
    expect(reset.status).toBe(303);
    expect(reset.location).toBe(`${memberPath(who)}?reset=reset-mfa-phone`);
    expect(await current(who)).toMatchObject({ mfa_phone_number: '', mfa_phone_number_verified: false, totp_registration_id: who.member.totp_registration_id, default_mfa_method: 'totp' });
    const [event] = await resetEvents(who);
    expect(event).toMatchObject({ type: 'member.mfa_phone_number_deleted', actor: { type: 'operator', operatorId: adminId, emailAddress: adminEmail } });
    expect(event?.details.reason).toBe('Ticket 7002: new number');
    const page = await admin.get(reset.location ?? '');
    expect(page.text).toContain('MFA phone number removed.');
    expect(page.text).toContain('<dt>MFA phone</dt><dd>none</dd>');
  });

  it('a reset of a factor the member does not have (a crafted or repeated post) says there was nothing to reset, and writes nothing', async () => {
    const who = await enrolledMember();
    const reason = 'Ticket 7006: lost phone';
    for (const [reset, done, unchanged] of [
      ['reset-totp', 'TOTP reset.', 'There was no TOTP to reset; nothing changed.'],
      ['reset-mfa-phone', 'MFA phone number removed.', 'There was no MFA phone number to remove; nothing changed.'],
    ] as const) {
      const path = `${memberPath(who)}/${reset}`;
      const first = await admin.post(path, { _csrf: await admin.csrfFrom(path), reason });
      expect(first.location).toBe(`${memberPath(who)}?reset=${reset}`);
      const eventsAfterFirst = (await harness.auditEvents()).length;
      const memberAfterFirst = await current(who);

      const again = await admin.post(path, { _csrf: await admin.csrfFrom(memberPath(who)), reason });
      expect(again.status).toBe(303);
      expect(again.location).toBe(`${memberPath(who)}?unchanged=${reset}`);
      const page = await admin.get(again.location ?? '');
      expect(page.text).toContain(unchanged);
      expect(page.text).not.toContain(done);
      expect((await harness.auditEvents()).length).toBe(eventsAfterFirst);
      expect(await current(who)).toEqual(memberAfterFirst);
    }
    expect((await resetEvents(who)).map((event) => event.type)).toEqual(RESET_TYPES);

    // A member who never had either factor: the same, with nothing written at all.
    const suffix = uniqueSuffix();
    const { organization } = await client().organizations.create({ organization_name: `No MFA ${suffix}`, organization_slug: `no-mfa-${suffix}` });
    const { member } = await client().organizations.members.create({ organization_id: organization.organization_id, email_address: `bo-${suffix}@members.example` });
    const plain = { organization, member, phone: '', secret: '', recoveryCodes: [] };
    const eventsBefore = (await harness.auditEvents()).length;
    for (const reset of ['reset-totp', 'reset-mfa-phone']) {
      const crafted = await admin.post(`${memberPath(plain)}/${reset}`, { _csrf: await admin.csrfFrom(memberPath(plain)), reason });
      expect(crafted.location).toBe(`${memberPath(plain)}?unchanged=${reset}`);
    }
    expect((await harness.auditEvents()).length).toBe(eventsBefore);
    expect(await current(plain)).toEqual(member);
  });

  it('support and viewers are refused (403) with a valid CSRF token and a reason; nothing is written', async () => {
    const who = await enrolledMember();
    for (const role of ['support', 'viewer'] as const) {
      harness.clock.advance(STEP);
      const browser = await harness.signedIn(await harness.createOperator(role));
      for (const reset of ['reset-totp', 'reset-mfa-phone']) {
        const path = `${memberPath(who)}/${reset}`;
        const page = await browser.get(path);
        expect(page.status).toBe(403);
        expect(page.text).toContain(NOT_ALLOWED);
        const forged = await browser.post(path, { _csrf: await browser.csrfFrom(memberPath(who)), reason: 'Ticket 7003' });
        expect(forged.status).toBe(403);
        expect(forged.text).toContain(NOT_ALLOWED);
      }
    }
    expect(await current(who)).toMatchObject({ totp_registration_id: who.member.totp_registration_id, mfa_phone_number: who.phone });
    expect(await resetEvents(who)).toEqual([]);
  });

  it('a member id under another organization in the path is refused (by id or slug), and so is a post without a session', async () => {
    const who = await enrolledMember();
    const other = await enrolledMember();
    const csrf = await admin.csrfFrom(memberPath(who));
    for (const organization of [other.organization.organization_id, other.organization.organization_slug]) {
      for (const reset of ['reset-totp', 'reset-mfa-phone']) {
        const path = `${memberPath(who, organization)}/${reset}`;
        expect((await admin.get(path)).status).toBe(403);
        const refused = await admin.post(path, { _csrf: csrf, reason: 'Ticket 7004' });
        expect(refused.status).toBe(403);
        expect(refused.text).toContain('This member belongs to another organization.');
      }
    }
    const anonymous = await harness.browser().post(`${memberPath(who)}/reset-totp`, { reason: 'Ticket 7005' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.location).toMatch(/^\/console\/login\?next=/);
    expect(await current(who)).toMatchObject({ totp_registration_id: who.member.totp_registration_id, mfa_phone_number: who.phone });
    expect(await current(other)).toMatchObject({ totp_registration_id: other.member.totp_registration_id, mfa_phone_number: other.phone });
    expect([...(await resetEvents(who)), ...(await resetEvents(other))]).toEqual([]);
  });
});
