import { describe, expect, it } from 'vitest';
import { EMAIL_LOCALES, EMAIL_TEMPLATES, type EmailTemplateName, type OutgoingEmail } from '../../src/domain/mail/outgoing-email.js';
import { escapeHtml, renderEmail } from '../../src/mail/templates/render-email.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const PROJECT = 'Stage & <Co>';
const ORGANIZATION = `Acme "R&D" <script>alert('x')</script>`;
const INVITER = 'Ada <Lovelace>';
const LINK = 'https://app.example/authenticate?stytch_token_type=multi_tenant_magic_links&token=abc"def<x>';
const CODE = '048213';
const MINUTES_WORD = { en: '60 minutes', es: '60 minutos', 'pt-br': '60 minutos', fr: '60 minutes' } as const;

const isCodeTemplate = (template: EmailTemplateName): boolean => template.startsWith('otp_');
const namesOrganization = (template: EmailTemplateName): boolean => template !== 'discovery' && template !== 'otp_discovery';

function email(template: EmailTemplateName, locale: OutgoingEmail['locale'], overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    template,
    to: 'ada@example.com',
    locale,
    ...(isCodeTemplate(template) ? { code: CODE } : { link: LINK }),
    expiresAt: new Date(NOW.getTime() + 60 * 60_000).toISOString(),
    ...(namesOrganization(template) && { organizationName: ORGANIZATION }),
    ...(template === 'invite' && { inviterName: INVITER }),
    organizationId: namesOrganization(template) ? 'organization-test-1' : null,
    memberId: null,
    ...overrides,
  };
}

describe('sign-in email templates', () => {
  for (const locale of EMAIL_LOCALES) {
    describe(locale, () => {
      it.each(EMAIL_TEMPLATES)('%s names the project, the organization, the expiry and the link or code, with every value escaped in HTML', (template) => {
        const rendered = renderEmail(email(template, locale), { projectName: PROJECT, now: NOW });

        expect(rendered.subject).toContain(PROJECT);
        expect(rendered.text).toContain(PROJECT);
        expect(rendered.html).toContain(escapeHtml(PROJECT));
        if (namesOrganization(template)) {
          expect(rendered.subject).toContain(ORGANIZATION);
          expect(rendered.text).toContain(ORGANIZATION);
          expect(rendered.html).toContain(escapeHtml(ORGANIZATION));
        }
        if (template === 'invite') {
          expect(rendered.subject).toContain(INVITER);
          expect(rendered.html).toContain(escapeHtml(INVITER));
        }
        expect(rendered.text).toContain(MINUTES_WORD[locale]);
        expect(rendered.html).toContain(MINUTES_WORD[locale]);
        expect(rendered.html).toContain(`<html lang="${locale}">`);

        if (isCodeTemplate(template)) {
          expect(rendered.text).toContain(CODE);
          expect(rendered.html).toContain(`>${CODE}</p>`);
          expect(rendered.html).not.toContain('<a ');
        } else {
          expect(rendered.text).toContain(LINK);
          // A clickable button, its href escaped as an attribute value.
          expect(rendered.html).toContain(`<a href="${escapeHtml(LINK)}"`);
          expect(rendered.html).not.toContain(LINK);
        }

        // Nothing interpolated is left unescaped: the only tags are the template's own.
        expect(rendered.html).not.toMatch(/<script|<Co>|<Lovelace>|<x>/);
        const tags = [...rendered.html.matchAll(/<\/?([a-zA-Z0-9!]+)/g)].map((match) => (match[1] as string).toLowerCase());
        expect(new Set(tags)).toEqual(new Set(['!doctype', 'html', 'head', 'meta', 'title', 'body', 'div', 'h1', 'p', ...(isCodeTemplate(template) ? [] : ['a'])]));
      });

      it('words each template differently', () => {
        const subjects = EMAIL_TEMPLATES.map((template) => renderEmail(email(template, locale), { projectName: 'P', now: NOW }).subject);
        expect(new Set(subjects).size).toBe(EMAIL_TEMPLATES.length);
      });
    });
  }

  it('translates: every locale words every template differently from English', () => {
    for (const template of EMAIL_TEMPLATES) {
      const english = renderEmail(email(template, 'en'), { projectName: 'P', now: NOW });
      for (const locale of EMAIL_LOCALES.filter((other) => other !== 'en')) {
        const other = renderEmail(email(template, locale), { projectName: 'P', now: NOW });
        expect(other.subject, `${template} in ${locale}`).not.toBe(english.subject);
        expect(other.text, `${template} in ${locale}`).not.toBe(english.text);
      }
    }
    expect(renderEmail(email('login', 'es'), { projectName: 'P', now: NOW }).subject).toBe(`Tu enlace para iniciar sesión en ${ORGANIZATION} en P`);
    expect(renderEmail(email('otp_login', 'fr'), { projectName: 'P', now: NOW }).text).toContain(`Saisissez ce code pour vous connecter à ${ORGANIZATION} sur P :`);
  });

  it('words the expiry in the unit that reads naturally', () => {
    const expiring = (minutes: number) =>
      renderEmail(email('invite', 'en', { expiresAt: new Date(NOW.getTime() + minutes * 60_000).toISOString() }), { projectName: 'P', now: NOW }).text;
    expect(expiring(1)).toContain('expires in 1 minute and');
    expect(expiring(10)).toContain('expires in 10 minutes');
    expect(expiring(180)).toContain('expires in 3 hours');
    expect(expiring(7 * 24 * 60)).toContain('expires in 7 days');
    expect(renderEmail(email('otp_signup', 'pt-br', { expiresAt: new Date(NOW.getTime() + 24 * 60 * 60_000).toISOString() }), { projectName: 'P', now: NOW }).text).toContain(
      'expira em 24 horas',
    );
  });

  it('invites without a known inviter, and signs in without an organization name', () => {
    const invite = renderEmail(email('invite', 'en', { inviterName: undefined }), { projectName: 'P', now: NOW });
    expect(invite.subject).toBe(`You are invited to join ${ORGANIZATION} on P`);
    const login = renderEmail(email('login', 'fr', { organizationName: undefined }), { projectName: 'P', now: NOW });
    expect(login.subject).toBe('Votre lien de connexion à P');
  });

  it('keeps names on one line (no header or layout injection) and makes no button of a non-http link', () => {
    const rendered = renderEmail(email('login', 'en', { organizationName: 'Evil\r\nBcc: victim@example.com', link: 'javascript:alert(1)' }), { projectName: 'P', now: NOW });
    expect(rendered.subject).toBe('Your sign-in link for Evil Bcc: victim@example.com on P');
    expect(rendered.html).not.toContain('href="javascript');
    expect(rendered.html).toContain('javascript:alert(1)');
  });
});
