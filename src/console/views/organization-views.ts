import type { Member } from '../../domain/members/member.js';
import { effectiveRoles } from '../../domain/members/member.js';
import type { Organization } from '../../domain/organizations/organization.js';
import type { PolicyView } from '../../domain/impersonation/impersonation-admin-service.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField } from './layout.js';
import { permissionsList } from './rbac-views.js';

export function organizationsList(options: { query: string; organizations: readonly Organization[]; nextCursor: string | null; total: number }): SafeHtml {
  const rows = options.organizations.map(
    (organization) => html`<tr>
  <td><a href="/console/organizations/${encodeURIComponent(organization.organizationId)}">${organization.organizationName}</a></td>
  <td><code>${organization.organizationSlug}</code></td>
  <td><code>${organization.organizationId}</code></td>
  <td>${organization.createdAt}</td>
</tr>`,
  );
  return html`<form method="get" action="/console/organizations" class="inline" role="search">
  <div><label for="q">Name, slug or id</label><input id="q" name="q" value="${options.query}" placeholder="acme"></div>
  <button type="submit">Search</button>
</form>
<p class="muted">${options.total} organization${options.total === 1 ? '' : 's'}${options.query ? html` matching “${options.query}”` : ''}.</p>
${
  options.organizations.length === 0
    ? html`<p class="empty">${options.query ? 'No organization matches. Try part of the name or slug, or the full organization id.' : 'There are no organizations yet. Create one with the stytch SDK: client.organizations.create({ organization_name }).'}</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Name</th><th scope="col">Slug</th><th scope="col">Id</th><th scope="col">Created</th></tr></thead><tbody>${rows}</tbody></table></div>`
}
${pager('/console/organizations', { q: options.query }, options.nextCursor)}`;
}

export function organizationDetail(options: {
  organization: Organization;
  policy: PolicyView;
  members: readonly Member[];
  memberQuery: string;
  nextCursor: string | null;
  canChangePolicy: boolean;
  csrf: string;
  message?: string | undefined;
}): SafeHtml {
  const { organization, policy } = options;
  const settings = organization.settings;
  const memberRows = options.members.map(
    (member) => html`<tr>
  <td><a href="/console/organizations/${encodeURIComponent(organization.organizationId)}/members/${encodeURIComponent(member.memberId)}">${member.emailAddress}</a></td>
  <td>${member.name}</td>
  <td>${statusBadge(member.status)}</td>
  <td>${effectiveRoles(member, organization).map((role) => role.roleId).join(', ')}</td>
</tr>`,
  );
  return html`${options.message ? html`<p class="notice success" role="status">${options.message}</p>` : ''}
<section class="card" aria-labelledby="settings"><h2 id="settings">Settings</h2>
<dl class="facts">
  <dt>Id</dt><dd><code>${organization.organizationId}</code></dd>
  <dt>Slug</dt><dd><code>${organization.organizationSlug}</code></dd>
  <dt>External id</dt><dd>${organization.organizationExternalId ?? '—'}</dd>
  <dt>Authentication methods</dt><dd>${settings.authMethods}${settings.allowedAuthMethods.length ? ` (${settings.allowedAuthMethods.join(', ')})` : ''}</dd>
  <dt>MFA policy</dt><dd>${settings.mfaPolicy}</dd>
  <dt>Allowed email domains</dt><dd>${settings.emailAllowedDomains.join(', ') || '—'}</dd>
  <dt>SSO</dt><dd><a href="/console/organizations/${encodeURIComponent(organization.organizationId)}/sso">SSO connections</a> (${settings.ssoActiveConnections.length} active)</dd>
  <dt>Created</dt><dd>${organization.createdAt}</dd>
</dl></section>
${rolesSection(organization)}
<section class="card" aria-labelledby="policy"><h2 id="policy">Impersonation policy</h2>
<dl class="facts">
  <dt>Effective</dt><dd>${policy.effective.enabled ? html`<span class="badge ok">allowed</span>` : html`<span class="badge warn">not allowed</span> (disabled by the ${policy.effective.disabledBy})`}</dd>
  <dt>Organization setting</dt><dd>${policy.stored?.enabled === false ? 'disabled' : 'enabled'}</dd>
  <dt>Access mode</dt><dd>${policy.stored?.accessMode ?? 'open'} (<a href="/console/organizations/${encodeURIComponent(organization.organizationId)}/impersonation">access mode, notifications and access grants</a>)</dd>
  <dt>Project setting</dt><dd>${policy.project.enabled ? 'enabled' : 'disabled'}</dd>
  <dt>Redirect URL</dt><dd>${policy.effective.redirectUrl ?? 'none: impersonation shows the token to copy'}</dd>
</dl>
${
  options.canChangePolicy
    ? html`<form method="post" action="/console/organizations/${encodeURIComponent(organization.organizationId)}/policy" class="inline">
  ${csrfField(options.csrf)}
  <div><label for="enabled">Organization setting</label><select id="enabled" name="enabled"><option value="true" ${policy.stored?.enabled !== false ? html`selected` : ''}>enabled</option><option value="false" ${policy.stored?.enabled === false ? html`selected` : ''}>disabled</option></select></div>
  <div><label for="redirect_url">Redirect URL (empty for none)</label><input id="redirect_url" name="redirect_url" type="url" value="${policy.stored?.redirectUrl ?? ''}"></div>
  <button type="submit">Save policy</button>
</form>${policy.stored?.enabled === false ? html`<p class="muted">Enabling it again is the organization’s own to do (its admin, through your app).</p>` : ''}`
    : html`<p class="muted">Only admins can change the policy.</p>`
}
</section>
<section aria-labelledby="members"><h2 id="members">Members</h2>
<form method="get" action="/console/organizations/${encodeURIComponent(organization.organizationId)}" class="inline" role="search">
  <div><label for="mq">Email contains</label><input id="mq" name="q" value="${options.memberQuery}"></div>
  <button type="submit">Filter</button>
</form>
${
  options.members.length === 0
    ? html`<p class="empty">${options.memberQuery ? 'No member matches this filter.' : 'This organization has no members yet. Add one with client.organizations.members.create.'}</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Roles</th></tr></thead><tbody>${memberRows}</tbody></table></div>`
}
${pager(`/console/organizations/${encodeURIComponent(organization.organizationId)}`, { q: options.memberQuery }, options.nextCursor)}
</section>`;
}

/**
 * The organization's own custom roles (its RBAC org policy, set with rbac.organizations.setOrgPolicy)
 * and its email-domain role assignments, read-only: the project's roles are on the RBAC page.
 */
function rolesSection(organization: Organization): SafeHtml {
  const { customRoles, rbacEmailImplicitRoleAssignments: byEmail, ssoImplicitRoleAssignments: bySso } = organization.settings;
  return html`<section class="card" aria-labelledby="custom-roles"><h2 id="custom-roles">Custom roles</h2>
<p class="muted">Roles of this organization alone, beside the project's roles (<a href="/console/rbac">RBAC policy</a>). Members' sessions are judged against both. They are set with <code>rbac.organizations.setOrgPolicy</code>.</p>
${
  customRoles.length === 0
    ? html`<p class="empty">This organization has no custom roles.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Role</th><th scope="col">Permissions</th><th scope="col">Description</th></tr></thead><tbody>${customRoles.map(
        (role) => html`<tr><td><code>${role.roleId}</code></td><td>${permissionsList(role.permissions)}</td><td>${role.description}</td></tr>`,
      )}</tbody></table></div>`
}
<dl class="facts">
  <dt>Roles by email domain</dt><dd>${byEmail.length === 0 ? '—' : byEmail.map((assignment, index) => html`${index === 0 ? '' : ', '}<code>${assignment.roleId}</code> for @${assignment.domain}`)}</dd>
  <dt>Roles by SSO connection</dt><dd>${
    bySso.length === 0
      ? '—'
      : bySso.map(
          (assignment, index) =>
            html`${index === 0 ? '' : ', '}<code>${assignment.roleId}</code> for ${assignment.group === undefined ? '' : html`group ${assignment.group} of `}<code>${assignment.connectionId}</code>`,
        )
  }</dd>
</dl></section>`;
}

export function statusBadge(status: string): SafeHtml {
  return html`<span class="badge ${status === 'active' ? 'ok' : status === 'deleted' ? 'warn' : ''}">${status}</span>`;
}

export function pager(path: string, params: Record<string, string>, nextCursor: string | null): SafeHtml {
  if (nextCursor === null) return html``;
  const query = new URLSearchParams({ ...Object.fromEntries(Object.entries(params).filter(([, value]) => value !== '')), cursor: nextCursor });
  return html`<nav class="pager" aria-label="Pages"><a class="button secondary" href="${path}?${query.toString()}">Next page</a></nav>`;
}
