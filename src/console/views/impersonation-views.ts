import type { AccessGrantView } from '../../domain/impersonation/access-grants-service.js';
import { DEFAULT_DELEGATED_IMPERSONATION, type AccessMode, type DelegatedImpersonation } from '../../domain/impersonation/impersonation.js';
import type { PolicyView } from '../../domain/impersonation/impersonation-admin-service.js';
import type { Organization } from '../../domain/organizations/organization.js';
import { html, type SafeHtml } from '../html.js';
import { actorLabel } from './actor-label.js';
import { csrfField, notice } from './layout.js';

const MODES: readonly { readonly value: AccessMode; readonly label: string }[] = [
  { value: 'open', label: 'open: support may impersonate whenever the project allows it' },
  { value: 'by_grant', label: 'by grant: only while an access grant the organization opened covers the member' },
  { value: 'off', label: 'off: nobody may impersonate, the organization’s own admins included' },
];

const DELEGATED: readonly { readonly value: DelegatedImpersonation; readonly label: string }[] = [
  { value: 'off', label: 'off' },
  { value: 'members', label: 'members who are not admins' },
  { value: 'members_and_admins', label: 'members and admins' },
];

/**
 * An organization's impersonation page: its access mode and other policy settings (a form for
 * admins), its access grants with a Revoke button per open one, and a form to request access
 * (operators who may impersonate).
 */
export function organizationImpersonation(options: {
  organization: Organization;
  policy: PolicyView;
  grants: readonly AccessGrantView[];
  /** The email addresses of the members grants name, by member id (a member gone since shows by id). */
  memberEmails: ReadonlyMap<string, string>;
  canChangePolicy: boolean;
  canRequestAccess: boolean;
  maxGrantMinutes: number;
  csrf: string;
  message?: string | undefined;
}): SafeHtml {
  const { organization, policy } = options;
  const base = `/console/organizations/${encodeURIComponent(organization.organizationId)}/impersonation`;
  const stored = policy.stored;
  const mode = stored?.accessMode ?? 'open';
  const delegated = stored?.delegated ?? DEFAULT_DELEGATED_IMPERSONATION;
  return html`${notice('success', options.message)}
<p><a href="/console/organizations/${encodeURIComponent(organization.organizationId)}">← ${organization.organizationName}</a></p>
<section class="card" aria-labelledby="access-policy"><h2 id="access-policy">Access policy</h2>
<dl class="facts">
  <dt>Access mode</dt><dd>${modeBadge(mode)}</dd>
  <dt>Delegated impersonation</dt><dd>${DELEGATED.find((entry) => entry.value === delegated)?.label ?? delegated}</dd>
  <dt>Email the member</dt><dd>${stored?.notifyMember === true ? 'yes' : 'no'}</dd>
  <dt>Email the admins</dt><dd>${stored?.notifyAdmins === true ? 'yes' : 'no'}</dd>
  <dt>Effective</dt><dd>${policy.effective.enabled ? 'allowed' : `not allowed (disabled by the ${policy.effective.disabledBy})`}</dd>
</dl>
${
  options.canChangePolicy
    ? html`<form method="post" action="${base}/policy" class="stack">
  ${csrfField(options.csrf)}
  <div><label for="access_mode">Access mode</label><select id="access_mode" name="access_mode">${MODES.map(
    (entry) => html`<option value="${entry.value}" ${entry.value === mode ? html`selected` : ''}>${entry.label}</option>`,
  )}</select></div>
  <div><label for="delegated_impersonation">Organization admins may impersonate</label><select id="delegated_impersonation" name="delegated_impersonation">${DELEGATED.map(
    (entry) => html`<option value="${entry.value}" ${entry.value === delegated ? html`selected` : ''}>${entry.label}</option>`,
  )}</select></div>
  <div><label><input type="checkbox" name="notify_member" value="true" ${stored?.notifyMember === true ? html`checked` : ''}> Email the member when an impersonation of them starts</label></div>
  <div><label><input type="checkbox" name="notify_admins" value="true" ${stored?.notifyAdmins === true ? html`checked` : ''}> Email the organization’s admins when any impersonation starts</label></div>
  <p class="muted">Operators may tighten what the organization chose, not loosen it: switching to open, or turning an email off, is for the organization’s own admins, through your app.</p>
  <button type="submit">Save access policy</button>
</form>`
    : html`<p class="muted">Only admins can change the access policy.</p>`
}
</section>
<section class="card" aria-labelledby="access-grants"><h2 id="access-grants">Access grants</h2>
${
  options.grants.length === 0
    ? html`<p class="empty">No access grant was requested or opened for this organization.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Status</th><th scope="col">Members</th><th scope="col">Requested by</th><th scope="col">Opened by</th><th scope="col">Window</th><th scope="col">Reason</th><th scope="col"><span class="muted">Action</span></th></tr></thead><tbody>${options.grants.map(
        (grant) => html`<tr data-grant-id="${grant.grantId}">
  <td>${statusBadge(grant.status)}</td>
  <td>${grant.memberIds === null ? 'every member' : grant.memberIds.map((memberId, index) => html`${index === 0 ? '' : ', '}<a href="/console/organizations/${encodeURIComponent(organization.organizationId)}/members/${encodeURIComponent(memberId)}">${options.memberEmails.get(memberId) ?? html`<code>${memberId}</code>`}</a>`)}</td>
  <td>${actorLabel(grant.requestedBy)}</td>
  <td>${grant.openedBy === null ? '—' : actorLabel(grant.openedBy)}</td>
  <td>${grant.openedAt === null ? `${grant.durationMinutes} minutes once approved` : `${grant.openedAt} → ${grant.expiresAt ?? ''}`}${grant.closedAt === null ? '' : html`<br><span class="muted">closed ${grant.closedAt}</span>`}</td>
  <td>${grant.reason}</td>
  <td>${
    options.canRequestAccess && grant.status === 'open'
      ? html`<form method="post" action="${base}/grants/${encodeURIComponent(grant.grantId)}/revoke" data-confirm="End this access grant now? Impersonations under it end too.">${csrfField(options.csrf)}<button class="danger" type="submit">Revoke</button></form>`
      : ''
  }</td>
</tr>`,
      )}</tbody></table></div>`
}
</section>
${
  options.canRequestAccess
    ? html`<section class="card" aria-labelledby="request-access"><h2 id="request-access">Request access</h2>
<p class="muted">The request waits until a member of the organization allowed <code>understudy.support-access:grant</code> approves it; its window starts then.</p>
<form method="post" action="${base}/grants" class="stack">
  ${csrfField(options.csrf)}
  <div><label for="duration_minutes">Duration in minutes (1 to ${options.maxGrantMinutes})</label><input id="duration_minutes" name="duration_minutes" type="number" min="1" max="${options.maxGrantMinutes}" required value="60"></div>
  <div><label for="grant_reason">Reason (required, e.g. the ticket)</label><textarea id="grant_reason" name="reason" required maxlength="1024"></textarea></div>
  <div><label for="grant_members">Members: email addresses, member ids or external ids, separated by commas or lines (empty for every member)</label><textarea id="grant_members" name="members"></textarea></div>
  <button type="submit">Request access</button>
</form></section>`
    : ''
}`;
}

function modeBadge(mode: AccessMode): SafeHtml {
  return mode === 'open' ? html`<span class="badge ok">open</span>` : mode === 'by_grant' ? html`<span class="badge">by grant</span>` : html`<span class="badge warn">off</span>`;
}

function statusBadge(status: AccessGrantView['status']): SafeHtml {
  return status === 'open' ? html`<span class="badge ok">open</span>` : status === 'requested' ? html`<span class="badge">requested</span>` : html`<span class="badge warn">${status}</span>`;
}
