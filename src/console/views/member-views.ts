import type { AuditEvent } from '../../domain/audit/audit-event.js';
import type { Member } from '../../domain/members/member.js';
import { effectiveRoles, type RoleSource } from '../../domain/members/member.js';
import type { Organization } from '../../domain/organizations/organization.js';
import type { MemberSession } from '../../domain/sessions/session.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField } from './layout.js';
import { mfaSection } from './member-mfa-views.js';
import { statusBadge } from './organization-views.js';

export interface ImpersonateAbility {
  /** Why the button is disabled, or null when it is enabled; `hidden` for roles that never may. */
  readonly blockedBecause: string | null | 'hidden';
  readonly needsTotp: boolean;
}

export function memberDetail(options: {
  organization: Organization;
  member: Member;
  sessions: readonly MemberSession[];
  history: readonly AuditEvent[];
  ability: ImpersonateAbility;
  /** Admins may reset the member's TOTP and MFA phone. */
  canResetFactors: boolean;
  /** Said after a factor was reset. */
  mfaMessage?: string | undefined;
  csrf: string;
}): SafeHtml {
  const { organization, member } = options;
  const base = `/console/organizations/${encodeURIComponent(organization.organizationId)}/members/${encodeURIComponent(member.memberId)}`;
  return html`<p><a href="/console/organizations/${encodeURIComponent(organization.organizationId)}">← ${organization.organizationName}</a></p>
<section class="card" aria-labelledby="profile"><h2 id="profile">Profile</h2>
<dl class="facts">
  <dt>Email</dt><dd>${member.emailAddress}</dd>
  <dt>Name</dt><dd>${member.name || '—'}</dd>
  <dt>Status</dt><dd>${statusBadge(member.status)}</dd>
  <dt>Roles</dt><dd><ul id="member-roles">${effectiveRoles(member, organization).map((role) => html`<li><code>${role.roleId}</code> <span class="muted">(${role.sources.map(sourceLabel).join('; ')})</span></li>`)}</ul></dd>
  <dt>Member id</dt><dd><code>${member.memberId}</code></dd>
  <dt>External id</dt><dd>${member.externalId ?? '—'}</dd>
  <dt>Created</dt><dd>${member.createdAt}</dd>
</dl></section>
${mfaSection({ organization, member, canReset: options.canResetFactors, message: options.mfaMessage })}
${impersonateSection(base, options.ability, options.csrf)}
<section aria-labelledby="sessions"><h2 id="sessions">Active sessions</h2>
${
  options.sessions.length === 0
    ? html`<p class="empty">No active sessions.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Session</th><th scope="col">How</th><th scope="col">Started</th><th scope="col">Expires</th></tr></thead><tbody>${options.sessions.map(
        (session) => html`<tr><td><code>${session.memberSessionId}</code></td><td>${session.authenticationFactors.map((factor) => factorLabel(factor)).join(', ')}</td><td>${session.startedAt}</td><td>${session.expiresAt}</td></tr>`,
      )}</tbody></table></div>`
}</section>
<section aria-labelledby="history"><h2 id="history">Impersonation history</h2>
${
  options.history.length === 0
    ? html`<p class="empty">Nobody has impersonated this member.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Who</th><th scope="col">Reason</th></tr></thead><tbody>${options.history.map(
        (event) => html`<tr><td>${event.occurredAt}</td><td>${event.type.replace('impersonation.', '').replaceAll('_', ' ')}</td><td>${String(event.details.impersonator_email_address ?? event.impersonatorId ?? '')}</td><td>${String(event.details.reason ?? '')}</td></tr>`,
      )}</tbody></table></div>`
}</section>`;
}

function impersonateSection(base: string, ability: ImpersonateAbility, csrf: string): SafeHtml {
  if (ability.blockedBecause === 'hidden') return html`<p class="muted">Your role can view members but not impersonate them.</p>`;
  const disabled = ability.blockedBecause !== null;
  return html`<section class="card" aria-labelledby="impersonate"><h2 id="impersonate">Impersonate</h2>
${disabled ? html`<p class="notice error" role="note">${ability.blockedBecause}</p>` : html`<p class="muted">You will act as this member for 60 minutes. Your name, the reason and everything you do are recorded.</p>`}
<form method="post" action="${base}/impersonate" target="_blank" class="stack">
  ${csrfField(csrf)}
  <div><label for="reason">Reason (required, e.g. the ticket)</label><textarea id="reason" name="reason" required maxlength="1024" ${disabled ? html`disabled` : ''}></textarea></div>
  ${ability.needsTotp ? html`<div><label for="totp">Current code from your authenticator app</label><input id="totp" name="totp" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required ${disabled ? html`disabled` : ''}></div>` : ''}
  <button type="submit" ${disabled ? html`disabled` : ''}>Impersonate</button>
</form></section>`;
}

/** Where a member's role comes from, as member.roles[].sources[] names it. */
function sourceLabel(source: RoleSource): string {
  switch (source.type) {
    case 'direct_assignment':
      return 'direct assignment';
    case 'email_assignment':
      return `email domain ${source.details.email_domain}`;
    case 'sso_connection':
      return `SSO connection ${source.details.connection_id}`;
    case 'sso_connection_group':
      return `group ${source.details.group} of SSO connection ${source.details.connection_id}`;
  }
}

function factorLabel(factor: MemberSession['authenticationFactors'][number]): string {
  const who = factor.detail?.name === 'impersonated_factor' ? ` by ${factor.detail.fields.impersonator_email_address ?? ''}` : '';
  return `${factor.type}${who}`;
}

export function impersonationResult(options: { url: string | null; token: string; expiresAt: string; memberEmail: string }): SafeHtml {
  if (options.url !== null) {
    return html`<p class="notice success" role="status">Impersonation of ${options.memberEmail} started. Opening the application…</p>
<p><a class="button" href="${options.url}" data-navigate rel="noopener noreferrer">Open the application as ${options.memberEmail}</a></p>
<p class="muted">The link works once, until ${options.expiresAt}.</p>`;
  }
  return html`<p class="notice success" role="status">Impersonation token for ${options.memberEmail}. No redirect URL is configured, so pass it to your application's impersonation.authenticate.</p>
<div class="card stack"><p class="token" id="token">${options.token}</p><button type="button" class="secondary" data-copy="token">Copy token</button></div>
<p class="muted">Single use, valid until ${options.expiresAt}.</p>`;
}
