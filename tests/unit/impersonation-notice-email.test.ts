import { describe, expect, it } from 'vitest';
import { EMAIL_LOCALES, type OutgoingEmail } from '../../src/domain/mail/outgoing-email.js';
import { escapeHtml, renderEmail } from '../../src/mail/templates/render-email.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const LINK = 'https://auth.example.com/impersonation/end?token=abc';

function notice(overrides: Partial<NonNullable<OutgoingEmail['impersonation']>> = {}, email: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    template: 'impersonation_started',
    to: 'ann@acme.example',
    locale: 'en',
    expiresAt: '2026-03-01T13:00:00Z',
    organizationName: 'Acme <R&D>',
    organizationId: 'organization-test-1',
    memberId: 'member-test-1',
    link: LINK,
    impersonation: {
      impersonatorEmailAddress: 'sam@support.example',
      delegated: false,
      reason: 'Ticket 4711:\ncannot see <invoices>',
      startedAt: '2026-03-01T12:00:00Z',
      expiresAt: '2026-03-01T13:00:00Z',
      restrictions: null,
      ...overrides,
    },
    ...email,
  };
}

describe('the impersonation notice email', () => {
  it("tells the member who, why, since and until when, with the link to end it, every value escaped", () => {
    const rendered = renderEmail(notice(), { projectName: 'Stage', now: NOW });
    expect(rendered.subject).toBe('An impersonation started in Acme <R&D> on Stage');
    expect(rendered.text).toContain('sam@support.example is now signed in to Acme <R&D> on Stage as you, for support.');
    expect(rendered.text).toContain('Who: sam@support.example');
    expect(rendered.text).toContain('Why: Ticket 4711: cannot see <invoices>');
    expect(rendered.text).toContain('Started: March 1, 2026 at 12:00 PM UTC');
    expect(rendered.text).toContain('Ends at the latest: March 1, 2026 at 1:00 PM UTC');
    expect(rendered.text).toContain('If you did not expect this, you can end it now:');
    expect(rendered.text).toContain(LINK);
    expect(rendered.text).toContain('This link expires in 60 minutes and works only once.');
    expect(rendered.text).not.toContain('you can ignore it');
    expect(rendered.html).toContain(escapeHtml('Ticket 4711: cannot see <invoices>'));
    expect(rendered.html).not.toContain('<invoices>');
    expect(rendered.html).toContain(`<a href="${escapeHtml(LINK)}"`);
    expect(rendered.html).toContain('End this impersonation');
  });

  it("words an organization admin's impersonation, the admins' copy and the restriction", () => {
    const delegated = renderEmail(notice({ delegated: true, restrictions: 'read_only' }), { projectName: 'Stage', now: NOW });
    expect(delegated.text).toContain('Who: sam@support.example, an administrator of your organization');
    expect(delegated.text).toContain('Restricted to: reading only');
    const admins = renderEmail(notice({ memberEmailAddress: 'ann@acme.example', restrictions: ['stytch.member:search', 'documents:read'] }, { link: undefined }), { projectName: 'Stage', now: NOW });
    expect(admins.text).toContain('as ann@acme.example, for support.');
    expect(admins.text).toContain('Acting as: ann@acme.example');
    expect(admins.text).toContain('Restricted to: stytch.member:search, documents:read');
    expect(admins.text).not.toContain('end it now');
    expect(admins.html).not.toContain('<a ');
  });

  it('is translated in every locale', () => {
    const english = renderEmail(notice(), { projectName: 'Stage', now: NOW });
    for (const locale of EMAIL_LOCALES.filter((other) => other !== 'en')) {
      const other = renderEmail(notice({}, { locale }), { projectName: 'Stage', now: NOW });
      expect(other.subject).not.toBe(english.subject);
      expect(other.text).toContain('sam@support.example');
      expect(other.text).toContain(LINK);
    }
  });
});
