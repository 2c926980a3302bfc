import { describe, expect, it } from 'vitest';
import type { OperationContext } from '../../src/domain/common/operation-context.js';
import type { Member } from '../../src/domain/members/member.js';
import type { SmsCodePorts } from '../../src/domain/mfa/sms-code-sender.js';
import { SmsMfaPrompt } from '../../src/domain/mfa/sms-mfa-prompt.js';
import type { Organization } from '../../src/domain/organizations/organization.js';
import { rateLimitError } from '../../src/domain/rate-limits/errors.js';
import type { OutgoingSms, SmsDelivery } from '../../src/domain/sms/outgoing-sms.js';
import { aMember } from '../support/builders/member-builder.js';
import { anOrganization } from '../support/builders/organization-builder.js';

const CONTEXT: OperationContext = { requestId: 'request-id-test-00000000-0000-4000-8000-000000000001', actor: { type: 'system' } };
const TX = {} as SmsCodePorts;

/** Records what it is given; delivers nothing. */
class RecordingDelivery implements SmsDelivery {
  readonly delivered: OutgoingSms[] = [];
  deliver(_context: OperationContext, sms: OutgoingSms): void {
    this.delivered.push(sms);
  }
}

/** A sender that issues a code (or refuses, as a limit reached does, or allows no country) and records what it was asked. */
function aSender(outcome: 'issue' | 'limited' | 'no_country' = 'issue') {
  const asked: { member: Member; locale: string; phoneNumber: string }[] = [];
  return {
    asked,
    allowsCountryOf(_phoneNumber: string): boolean {
      return outcome !== 'no_country';
    },
    async issue(_tx: SmsCodePorts, _context: OperationContext, member: Member, organization: Organization, request: { phoneNumber: string; locale: OutgoingSms['locale'] }): Promise<OutgoingSms> {
      asked.push({ member, locale: request.locale, phoneNumber: request.phoneNumber });
      if (outcome === 'limited') throw rateLimitError(60);
      return {
        template: 'sms_otp',
        to: request.phoneNumber,
        locale: request.locale,
        code: '123456',
        expiresAt: '2026-03-01T12:02:00Z',
        organizationName: organization.organizationName,
        organizationId: organization.organizationId,
        memberId: member.memberId,
      };
    },
  };
}

const organization = anOrganization();
const verified = aMember({ organizationId: organization.organizationId, mfaPhoneNumber: '+14155550100', mfaPhoneNumberVerified: true });

describe('SmsMfaPrompt (the SMS a sign-in needing MFA sends itself)', () => {
  it('issues a code in the transaction and hands it to delivery only once the sign-in committed', async () => {
    const delivery = new RecordingDelivery();
    const sender = aSender();
    const started = await new SmsMfaPrompt({ sender, delivery }).start(TX, CONTEXT, verified, organization, 'es');
    expect(started?.initiated).toBe('sms_otp');
    expect(sender.asked).toEqual([{ member: verified, locale: 'es', phoneNumber: '+14155550100' }]);
    expect(delivery.delivered).toEqual([]);
    started?.afterCommit();
    expect(delivery.delivered.map((sms) => [sms.to, sms.locale, sms.code])).toEqual([['+14155550100', 'es', '123456']]);
  });

  it('uses English when the sign-in’s locale is not an SMS language', async () => {
    const sender = aSender();
    await new SmsMfaPrompt({ sender, delivery: new RecordingDelivery() }).start(TX, CONTEXT, verified, organization, 'xx');
    expect(sender.asked[0]?.locale).toBe('en');
  });

  it.each([
    ['an unverified phone', { mfaPhoneNumberVerified: false }, {}],
    ['no phone', { mfaPhoneNumber: '', mfaPhoneNumberVerified: false }, {}],
    ['a TOTP default', { defaultMfaMethod: 'totp' }, {}],
    ['a member who is not active', { status: 'invited' as const }, {}],
    ['an organization allowing only TOTP', {}, { mfaMethods: 'RESTRICTED' as const, allowedMfaMethods: ['totp'] }],
  ])('starts nothing for %s', async (_label, memberChanges, settings) => {
    const sender = aSender();
    const restricted = anOrganization({ settings });
    const member = { ...verified, organizationId: restricted.organizationId, ...memberChanges };
    expect(await new SmsMfaPrompt({ sender, delivery: new RecordingDelivery() }).start(TX, CONTEXT, member, restricted, undefined)).toBeUndefined();
    expect(sender.asked).toEqual([]);
  });

  it('exempts break-glass members from an organization’s restriction', async () => {
    const restricted = anOrganization({ settings: { mfaMethods: 'RESTRICTED', allowedMfaMethods: ['totp'] } });
    const member = { ...verified, organizationId: restricted.organizationId, isBreakglass: true };
    expect((await new SmsMfaPrompt({ sender: aSender(), delivery: new RecordingDelivery() }).start(TX, CONTEXT, member, restricted, undefined))?.initiated).toBe('sms_otp');
  });

  it('a limit reached means no SMS, never a refused sign-in', async () => {
    const delivery = new RecordingDelivery();
    expect(await new SmsMfaPrompt({ sender: aSender('limited'), delivery }).start(TX, CONTEXT, verified, organization, undefined)).toBeUndefined();
    expect(delivery.delivered).toEqual([]);
  });

  it('a number outside the countries SMS may go to gets no SMS, and nothing is issued', async () => {
    const sender = aSender('no_country');
    expect(await new SmsMfaPrompt({ sender, delivery: new RecordingDelivery() }).start(TX, CONTEXT, verified, organization, undefined)).toBeUndefined();
    expect(sender.asked).toEqual([]);
  });
});
