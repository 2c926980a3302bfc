import { describe, expect, it } from 'vitest';
import { EMAIL_LOCALES, type OutgoingEmail } from '../../../src/domain/mail/outgoing-email.js';
import { escapeHtml, renderEmail } from '../../../src/mail/templates/render-email.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const RESET_LINK = 'https://app.example/reset?stytch_token_type=multi_tenant_passwords&token=abc"def<x>';
const LOGIN_LINK = 'https://app.example/login?stytch_token_type=multi_tenant_magic_links&token=ghi&jkl';
const LABELS = {
  reset_password: { en: 'Sign in without a password', es: 'Iniciar sesión sin contraseña', 'pt-br': 'Entrar sem senha', fr: 'Se connecter sans mot de passe' },
  discovery_reset_password: { en: 'Continue without a password', es: 'Continuar sin contraseña', 'pt-br': 'Continuar sem senha', fr: 'Continuer sans mot de passe' },
} as const;

function email(template: 'reset_password' | 'discovery_reset_password', locale: OutgoingEmail['locale'], overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    template,
    to: 'ada@example.com',
    locale,
    link: RESET_LINK,
    loginLink: LOGIN_LINK,
    expiresAt: new Date(NOW.getTime() + 30 * 60_000).toISOString(),
    ...(template === 'reset_password' && { organizationName: 'Acme <R&D>' }),
    organizationId: null,
    memberId: null,
    ...overrides,
  };
}

/**
 * The password reset messages: the reset link first, then the way in without a password (a login
 * magic link, or a discovery one), each as a button with the link in full, every value escaped.
 */
describe('password reset email templates', () => {
  for (const locale of EMAIL_LOCALES) {
    for (const template of ['reset_password', 'discovery_reset_password'] as const) {
      it(`${template} in ${locale} carries the reset link, then the link to sign in without a password`, () => {
        const rendered = renderEmail(email(template, locale), { projectName: 'Stage', now: NOW });
        const label = LABELS[template][locale];
        const resetAt = rendered.text.indexOf(RESET_LINK);
        const loginAt = rendered.text.indexOf(LOGIN_LINK);
        expect(resetAt).toBeGreaterThan(-1);
        expect(loginAt).toBeGreaterThan(resetAt);
        expect(rendered.text).toContain(locale === 'en' || locale === 'fr' ? '30 minutes' : '30 minutos');
        expect(rendered.html).toContain(`<a href="${escapeHtml(RESET_LINK)}"`);
        expect(rendered.html).toContain(`<a href="${escapeHtml(LOGIN_LINK)}"`);
        expect(rendered.html).toContain(`>${escapeHtml(label)}</a>`);
        expect(rendered.html.indexOf(escapeHtml(LOGIN_LINK))).toBeGreaterThan(rendered.html.indexOf(escapeHtml(RESET_LINK)));
        expect(rendered.html).not.toMatch(/<x>|<R&D>/);
        expect(rendered.subject).toContain('Stage');
        if (template === 'reset_password') expect(rendered.subject).toContain('Acme <R&D>');
      });
    }
  }

  it('without a login link, the message has the reset link alone', () => {
    const rendered = renderEmail(email('reset_password', 'en', { loginLink: undefined }), { projectName: 'Stage', now: NOW });
    expect(rendered.text).not.toContain('without a password');
    expect(rendered.html.match(/<a /g)).toHaveLength(2);
  });

  it('makes no button of a login link that is not http(s)', () => {
    const rendered = renderEmail(email('reset_password', 'en', { loginLink: 'javascript:alert(1)' }), { projectName: 'Stage', now: NOW });
    expect(rendered.html).not.toContain('href="javascript');
    expect(rendered.html).toContain('javascript:alert(1)');
  });
});
