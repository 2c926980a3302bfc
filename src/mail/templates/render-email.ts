import type { RenderedEmail } from '../../domain/mail/mail-message.js';
import { EMAIL_LOCALES, type EmailLocale, type OutgoingEmail } from '../../domain/mail/outgoing-email.js';
import { CATALOG, type LocaleText } from './catalog.js';
import { impersonationFacts } from './impersonation-facts.js';

/** The project name when UNDERSTUDY_PROJECT_NAME is not set. */
export const DEFAULT_PROJECT_NAME = 'Understudy';

/**
 * Renders a message: subject, plain text and HTML, in its locale (English for an unknown one). Every
 * value put into the HTML is escaped; the link becomes a button only when it is an http(s) URL.
 */
export function renderEmail(email: OutgoingEmail, options: { readonly projectName: string; readonly now: Date }): RenderedEmail {
  const locale: EmailLocale = EMAIL_LOCALES.includes(email.locale) ? email.locale : 'en';
  const text = CATALOG[locale];
  const template = text.templates[email.template];
  const project = oneLine(options.projectName);
  const organization = email.organizationName === undefined || email.organizationName === '' ? undefined : oneLine(email.organizationName);
  const inviter = email.inviterName === undefined || email.inviterName === '' ? undefined : oneLine(email.inviterName);
  const notice = email.impersonation;
  const wording = {
    place: organization === undefined ? project : text.place(organization, project),
    project,
    inviter,
    ...(notice !== undefined && {
      impersonator: notice.delegated ? text.impersonation.delegated(oneLine(notice.impersonatorEmailAddress)) : oneLine(notice.impersonatorEmailAddress),
      member: notice.memberEmailAddress === undefined ? undefined : oneLine(notice.memberEmailAddress),
    }),
  };
  const subject = template.subject(wording);
  const intro = template.intro(wording);
  const duration = describeDuration(text, Date.parse(email.expiresAt) - options.now.getTime());
  const link = email.link;
  const code = email.code;

  const textLines = [intro, ''];
  const htmlParts = [`<p style="margin:0 0 16px">${escapeHtml(intro)}</p>`];
  if (notice !== undefined) {
    const facts = impersonationFacts(text.impersonation, notice, locale);
    textLines.push(...facts.map(([label, value]) => `${label}: ${value}`), '');
    htmlParts.push(...facts.map(([label, value]) => `<p style="margin:0 0 8px"><span style="color:#4b5563">${escapeHtml(label)}:</span> ${escapeHtml(value)}</p>`));
    if (link !== undefined) {
      textLines.push(text.impersonation.endIntro, '');
      htmlParts.push(`<p style="margin:16px 0 16px">${escapeHtml(text.impersonation.endIntro)}</p>`);
    }
  }
  if (link !== undefined) {
    textLines.push(link, '', text.linkExpires(duration));
    htmlParts.push(...linkHtml(link, template.action ?? link, text), `<p style="margin:0 0 16px">${escapeHtml(text.linkExpires(duration))}</p>`);
  }
  // The password reset messages' way in without a password, below the reset link (both links expire together).
  const alternative = template.alternative;
  if (email.loginLink !== undefined && alternative !== undefined) {
    const sentence = alternative.intro(wording);
    textLines.push('', sentence, '', email.loginLink);
    htmlParts.push(`<p style="margin:0 0 16px">${escapeHtml(sentence)}</p>`, ...linkHtml(email.loginLink, alternative.action, text));
  }
  if (code !== undefined) {
    textLines.push(`    ${code}`, '', text.codeExpires(duration));
    htmlParts.push(
      `<p style="margin:0 0 24px;font-size:32px;font-weight:700;letter-spacing:6px;font-family:ui-monospace,Menlo,Consolas,monospace">${escapeHtml(code)}</p>`,
      `<p style="margin:0 0 16px">${escapeHtml(text.codeExpires(duration))}</p>`,
    );
  }
  // A notice answers nothing the reader asked for: it closes with where the record is kept instead.
  const closing = email.template === 'impersonation_started' ? text.impersonation.closing : text.ignore;
  textLines.push('', closing, '', `— ${project}`, '');
  htmlParts.push(`<p style="margin:24px 0 0;color:#6b7280;font-size:13px">${escapeHtml(closing)}</p>`, `<p style="margin:16px 0 0;color:#6b7280;font-size:13px">— ${escapeHtml(project)}</p>`);

  const html = [
    '<!DOCTYPE html>',
    `<html lang="${locale}">`,
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,BlinkMacSystemFont,Segoe UI,Helvetica,Arial,sans-serif;color:#111827;line-height:1.5">',
    '<div style="max-width:560px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px">',
    `<h1 style="margin:0 0 16px;font-size:20px">${escapeHtml(subject)}</h1>`,
    ...htmlParts,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { subject, text: textLines.join('\n'), html };
}

/** A link as a button with the link in full below it; a link that is not http(s) is shown as text only, never made clickable. */
function linkHtml(link: string, label: string, text: LocaleText): string[] {
  if (!/^https?:\/\//i.test(link)) return [`<p style="margin:0 0 16px;font-size:13px;word-break:break-all">${escapeHtml(link)}</p>`];
  const href = escapeHtml(link);
  return [
    `<p style="margin:0 0 24px"><a href="${href}" style="display:inline-block;padding:12px 20px;background:#1f2937;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">${escapeHtml(label)}</a></p>`,
    `<p style="margin:0 0 8px;color:#4b5563;font-size:13px">${escapeHtml(text.copyLink)}</p>`,
    `<p style="margin:0 0 16px;font-size:13px;word-break:break-all"><a href="${href}" style="color:#1d4ed8">${href}</a></p>`,
  ];
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** Names and subjects are one line: no control characters (no header or layout injection through an organization name). */
function oneLine(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

/** "10 minutes", "2 hours", "7 days": the unit that reads naturally for the remaining time. */
function describeDuration(text: LocaleText, milliseconds: number): string {
  const minutes = Math.max(1, Math.round(milliseconds / 60_000));
  const [count, [one, many]] =
    minutes < 120 ? [minutes, text.units.minute] : minutes < 48 * 60 ? [Math.round(minutes / 60), text.units.hour] : [Math.round(minutes / (24 * 60)), text.units.day];
  return `${count} ${count === 1 ? one : many}`;
}
