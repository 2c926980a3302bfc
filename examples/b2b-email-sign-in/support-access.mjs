import { html, page } from './html.mjs';
import { understudyExtension } from './understudy-extension.mjs';

/** Understudy's RBAC resource for the vendor's support access (the default stytch_admin role holds every action). */
const SUPPORT_ACCESS = 'understudy.support-access';
const DURATIONS = [
  [60, '1 hour'],
  [240, '4 hours'],
  [1440, '1 day'],
  [4320, '3 days'],
];

/**
 * The "Support access" pages for a signed-in member: how the organization lets the vendor's support
 * impersonate its members (its access mode and grants), a form to open a grant and buttons to end
 * or decide grants for members whose roles allow it, and "Impersonations of me". The member's
 * permissions are asked with the SDK's `sessions.authenticate` `authorization_check`; the pages'
 * data comes from Understudy's extension endpoints (understudy-extension.mjs), called as the member.
 *
 * `respond` holds the app's own `send`, `redirect` and `csrfField`.
 */
export function supportAccessRoutes({ client, understudy, respond }) {
  const { send, redirect, csrfField } = respond;
  const extension = understudy === undefined ? undefined : understudyExtension(understudy);

  /** The signed-in member, or undefined (the caller sends them to sign in). */
  async function signedInMember(cookies) {
    const token = cookies.example_session;
    if (token === undefined) return undefined;
    try {
      const { member, organization, member_session: session } = await client.sessions.authenticate({ session_token: token });
      return { token, member, organization, session };
    } catch (error) {
      if (error?.error_type === 'session_not_found') return undefined;
      throw error;
    }
  }

  /** Whether the member's roles grant `action` on support access in their organization (a refusal is an answer, not an error). */
  async function allowed(who, action) {
    try {
      await client.sessions.authenticate({
        session_token: who.token,
        authorization_check: { organization_id: who.organization.organization_id, resource_id: SUPPORT_ACCESS, action },
      });
      return true;
    } catch (error) {
      if (error?.error_type === 'session_authorization_error') return false;
      throw error;
    }
  }

  /** An extension call's answer, or the Stytch-shaped error it was refused with (shown in its section). */
  async function attempt(call) {
    try {
      return { value: await call() };
    } catch (error) {
      if (typeof error?.error_type === 'string' && Number.isInteger(error.status_code) && error.status_code < 500) return { error };
      throw error;
    }
  }

  async function show({ response, cookies, csrf }, problem) {
    const who = await signedInMember(cookies);
    if (who === undefined) return redirect(response, '/');
    if (extension === undefined) {
      return send(response, 200, page('Support access', html`<p class="muted">Set UNDERSTUDY_URL and the project's credentials to see support access.</p>`));
    }
    const organizationId = who.organization.organization_id;
    const [canGrant, canRevoke, policy, grants, history] = await Promise.all([
      allowed(who, 'grant'),
      allowed(who, 'revoke'),
      attempt(() => extension('GET', `/v1/b2b/impersonation/policies/${encodeURIComponent(organizationId)}`, { sessionToken: who.token })),
      attempt(() => extension('GET', '/v1/b2b/impersonation/access_grants', { sessionToken: who.token, query: { organization_id: organizationId } })),
      attempt(() => extension('GET', '/v1/b2b/impersonation/history', { sessionToken: who.token })),
    ]);
    const status = problem === undefined ? 200 : Number.isInteger(problem.status_code) ? problem.status_code : 400;
    return send(
      response,
      status,
      page(
        'Support access',
        html`${problem === undefined ? '' : html`<p class="error" role="alert">${problem.error_message ?? problem.message}</p><p class="muted"><code>${problem.error_type}</code></p>`}
<p>Signed in as <strong>${who.member.email_address}</strong> in ${who.organization.organization_name}.</p>
${accessModeSection(policy)}
${grantsSection(grants, { canGrant, canRevoke, csrf, csrfField })}
${canGrant ? grantForm(csrf, csrfField) : html`<section><h2>Open access for support</h2><p class="muted">Your role does not allow opening access for support (<code>${SUPPORT_ACCESS}:grant</code>).</p></section>`}
${historySection(history)}`,
      ),
    );
  }

  /** A grant action's form: runs it as the member, then shows the page again (with the refusal, if any). */
  function grantAction(run) {
    return async (context) => {
      const who = await signedInMember(context.cookies);
      if (who === undefined) return redirect(context.response, '/');
      if (extension === undefined) return show(context);
      try {
        await run(who, context.form);
      } catch (error) {
        if (typeof error?.error_type !== 'string' || !(error.status_code < 500)) throw error;
        return show(context, error);
      }
      return redirect(context.response, '/support-access');
    };
  }

  const grantPath = (form, verb) => `/v1/b2b/impersonation/access_grants/${encodeURIComponent(form.grant_id ?? '')}/${verb}`;

  return {
    'GET /support-access': (context) => show(context),
    'POST /support-access/grants': grantAction((who, form) => {
      const chosen = form.scope === 'members' ? (form.members ?? '').split(/[\s,]+/).filter((entry) => entry !== '') : undefined;
      return extension('POST', '/v1/b2b/impersonation/access_grants', {
        sessionToken: who.token,
        body: {
          organization_id: who.organization.organization_id,
          ...(chosen !== undefined && { member_ids: chosen }),
          duration_minutes: Number(form.duration_minutes),
          reason: form.reason ?? '',
        },
      });
    }),
    'POST /support-access/grants/revoke': grantAction((who, form) => extension('POST', grantPath(form, 'revoke'), { sessionToken: who.token, body: {} })),
    'POST /support-access/grants/approve': grantAction((who, form) => extension('POST', grantPath(form, 'approve'), { sessionToken: who.token, body: {} })),
    'POST /support-access/grants/deny': grantAction((who, form) => extension('POST', grantPath(form, 'deny'), { sessionToken: who.token, body: {} })),
  };
}

// --- Sections -------------------------------------------------------------------------------------

const MODES = {
  open: 'Support may impersonate members when they need to.',
  by_grant: 'Support may impersonate a member only while an access grant below covers them.',
  off: 'Support may not impersonate anyone in this organization.',
};

function accessModeSection(policy) {
  if (policy.error !== undefined) return unavailable('Access mode', policy.error);
  const mode = policy.value.access_mode ?? (policy.value.effective_impersonation_enabled === false ? 'off' : 'open');
  return html`<section aria-label="Access mode"><h2>Access mode</h2>
<p><strong id="access-mode">${mode}</strong>: ${MODES[mode] ?? ''}</p>
${policy.value.effective_impersonation_enabled === false && mode !== 'off' ? html`<p class="muted">Impersonation is switched off for the whole project.</p>` : ''}</section>`;
}

function grantsSection(grants, { canGrant, canRevoke, csrf, csrfField }) {
  if (grants.error !== undefined) return unavailable('Access grants', grants.error);
  const list = grants.value.access_grants ?? [];
  const button = (action, label, grant) =>
    html`<form method="post" action="/support-access/grants/${action}" class="inline">${csrfField(csrf)}<input type="hidden" name="grant_id" value="${grant.grant_id}"><button type="submit">${label}</button></form>`;
  return html`<section aria-label="Access grants"><h2>Access grants</h2>
${
  list.length === 0
    ? html`<p class="muted">No access grants.</p>`
    : html`<table id="access-grants"><thead><tr><th>Status</th><th>Members</th><th>Reason</th><th>Until</th><th>Opened by</th><th></th></tr></thead><tbody>
${list.map(
  (grant) => html`<tr data-grant-id="${grant.grant_id}"><td>${grant.status}</td><td>${grant.member_ids === null ? 'Everyone' : grant.member_ids.map((id) => html`<code>${id}</code> `)}</td><td>${grant.reason}</td><td>${grant.expires_at ?? `${grant.duration_minutes} minutes once approved`}</td><td>${actorText(grant.opened_by ?? grant.requested_by)}</td><td>${[
    grant.status === 'requested' && canGrant ? [button('approve', 'Approve', grant), button('deny', 'Deny', grant)] : '',
    (grant.status === 'open' || grant.status === 'requested') && canRevoke ? button('revoke', 'Revoke', grant) : '',
  ]}</td></tr>`,
)}
</tbody></table>`
}</section>`;
}

function grantForm(csrf, csrfField) {
  return html`<section aria-label="Open access for support"><h2>Open access for support</h2>
<form method="post" action="/support-access/grants">${csrfField(csrf)}
  <fieldset><legend>Who support may impersonate</legend>
    <label class="choice"><input type="radio" name="scope" value="everyone" checked> Everyone in the organization</label>
    <label class="choice"><input type="radio" name="scope" value="members"> Only these members</label>
    <label for="grant-members">Members (email addresses or member IDs, one per line)</label><textarea id="grant-members" name="members" rows="3"></textarea>
  </fieldset>
  <label for="grant-duration">For</label><select id="grant-duration" name="duration_minutes">${DURATIONS.map(([minutes, label]) => html`<option value="${minutes}">${label}</option>`)}</select>
  <label for="grant-reason">Reason</label><input id="grant-reason" name="reason" required maxlength="1024">
  <button type="submit">Open access</button>
</form></section>`;
}

const END_REASONS = { revoked: 'ended early', expired: 'ran out' };

function historySection(history) {
  if (history.error !== undefined) return unavailable('Impersonations of me', history.error);
  const list = history.value.impersonations ?? [];
  return html`<section aria-label="Impersonations of me"><h2>Impersonations of me</h2>
${
  list.length === 0
    ? html`<p class="muted">Nobody has impersonated you.</p>`
    : html`<table id="impersonations"><thead><tr><th>Minted</th><th>By</th><th>Reason</th><th>Kind</th><th>What happened</th></tr></thead><tbody>
${list.map(
  (entry) => html`<tr data-token-id="${entry.token_id}"><td>${entry.minted_at}</td><td>${entry.impersonator_email_address}</td><td>${entry.reason}</td><td>${entry.kind === 'delegated' ? 'an admin of your organization' : 'support'}${entry.permissions === 'read_only' ? ' (read only)' : Array.isArray(entry.permissions) ? ` (only ${entry.permissions.join(', ')})` : ''}</td><td>${happened(entry)}</td></tr>`,
)}
</tbody></table>`
}
${history.value.next_cursor ? html`<p class="muted">Older impersonations are not shown.</p>` : ''}</section>`;
}

function happened(entry) {
  const started = entry.started_at === null ? 'Never used' : `Signed in as you at ${entry.started_at}`;
  if (entry.end_reason !== null) return `${started}; ${END_REASONS[entry.end_reason] ?? entry.end_reason} at ${entry.ended_at}`;
  return entry.started_at === null ? `Not used yet (until ${entry.expires_at})` : `${started}; still going, until ${entry.expires_at}`;
}

function actorText(actor) {
  switch (actor?.type) {
    case 'member':
      return `a member (${actor.member_id})`;
    case 'operator':
      return actor.email_address ?? 'an operator';
    case 'project':
      return "the vendor's support";
    default:
      return actor?.type ?? '';
  }
}

/** A section the member's roles (or session) do not let them see: what Understudy said. */
function unavailable(title, error) {
  return html`<section aria-label="${title}"><h2>${title}</h2><p class="muted">Not available to you: ${error.error_message} (<code>${error.error_type}</code>)</p></section>`;
}
