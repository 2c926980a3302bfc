import type { Member } from '../../domain/members/member.js';
import { MAX_REASON_LENGTH } from '../../domain/operators/operator.js';
import type { Organization } from '../../domain/organizations/organization.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from './layout.js';

/** The member's factors an admin may reset from the console, by the path segment of their form. */
export const MEMBER_FACTOR_RESETS = {
  'reset-totp': {
    title: 'Reset TOTP',
    what: "The member's authenticator app registration and its recovery codes are deleted, and TOTP stops being their default MFA method.",
    done: 'TOTP reset.',
    unchanged: 'There was no TOTP to reset; nothing changed.',
  },
  'reset-mfa-phone': {
    title: 'Remove MFA phone number',
    what: "The member's MFA phone number is removed, and SMS stops being their default MFA method.",
    done: 'MFA phone number removed.',
    unchanged: 'There was no MFA phone number to remove; nothing changed.',
  },
} as const;

export type MemberFactorReset = keyof typeof MEMBER_FACTOR_RESETS;

export function memberPath(organization: Organization, member: Member): string {
  return `/console/organizations/${encodeURIComponent(organization.organizationId)}/members/${encodeURIComponent(member.memberId)}`;
}

/**
 * The member's MFA enrolment as Stytch's member object has it, never a secret or recovery code;
 * for admins, links to reset a factor (each asks for a reason on a page of its own).
 */
export function mfaSection(options: { organization: Organization; member: Member; canReset: boolean; message?: string | undefined }): SafeHtml {
  const { organization, member } = options;
  const base = memberPath(organization, member);
  const live = member.status !== 'deleted';
  const auditQuery = new URLSearchParams({ trail: 'member', organization: organization.organizationId, member: member.memberId }).toString();
  const resetLink = (reset: MemberFactorReset) => (options.canReset && live ? html` <a class="button secondary" href="${base}/${reset}">${MEMBER_FACTOR_RESETS[reset].title}…</a>` : '');
  return html`<section class="card" aria-labelledby="mfa"><h2 id="mfa">Multi-factor authentication</h2>
${notice('success', options.message)}
<dl class="facts">
  <dt>MFA enrolled</dt><dd>${member.mfaEnrolled ? 'yes' : 'no'}</dd>
  <dt>Default MFA method</dt><dd>${member.defaultMfaMethod || '—'}</dd>
  <dt>MFA phone</dt><dd>${
    member.mfaPhoneNumber === ''
      ? 'none'
      : html`${member.mfaPhoneNumber} ${member.mfaPhoneNumberVerified ? html`<span class="badge ok">verified</span>` : html`<span class="badge warn">not verified</span>`}${resetLink('reset-mfa-phone')}`
  }</dd>
  <dt>TOTP</dt><dd>${member.totpRegistrationId === '' ? 'none' : html`<span class="badge ok">active</span> <code>${member.totpRegistrationId}</code>${resetLink('reset-totp')}`}</dd>
</dl>
<p><a href="/console/audit?${auditQuery}">Show this member's events</a></p>
</section>`;
}

/** Resetting a factor asks first, on a page of its own: what happens, and a reason for the audit trail. */
export function factorResetConfirmation(options: { organization: Organization; member: Member; reset: MemberFactorReset; csrf: string; reason?: string | undefined; error?: string | undefined }): SafeHtml {
  const { organization, member } = options;
  const base = memberPath(organization, member);
  const reset = MEMBER_FACTOR_RESETS[options.reset];
  return html`<p><a href="${base}">← ${member.emailAddress}</a></p>
${notice('error', options.error)}
<section class="card stack" aria-labelledby="confirm"><h2 id="confirm">${reset.title} of ${member.emailAddress} (${organization.organizationName})?</h2>
<p>${reset.what} Their sessions stay. If their organization requires MFA, they set up a factor again at their next sign-in.</p>
<p class="muted">Your name and the reason are recorded in the audit trail.</p>
<form method="post" action="${base}/${options.reset}" class="stack">
  ${csrfField(options.csrf)}
  <div><label for="reason">Reason (required, e.g. the ticket)</label><textarea id="reason" name="reason" required maxlength="${MAX_REASON_LENGTH}">${options.reason ?? ''}</textarea></div>
  <button class="danger" type="submit">${reset.title}</button> <a href="${base}">Cancel</a>
</form></section>`;
}
