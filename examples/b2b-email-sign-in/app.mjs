import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { html, page } from './html.mjs';

/**
 * A customer's web app that signs members in by email through the official stytch SDK:
 *
 *   - a magic link to sign in to one organization  (magicLinks.email.loginOrSignup -> magicLinks.authenticate)
 *   - a one-time code for one organization         (otps.email.loginOrSignup -> otps.email.authenticate)
 *   - discovery: email -> pick an organization     (magicLinks.email.discovery.send -> magicLinks.discovery.authenticate
 *                                                    -> discovery.intermediateSessions.exchange)
 *
 * The member session token lives in an HttpOnly cookie; every page load checks it with
 * sessions.authenticate, and signing out revokes it with sessions.revoke.
 *
 * `client` is a stytch B2BClient; `appUrl` is where browsers reach this app (its redirect URL is
 * `${appUrl}/authenticate`, which must be one of the project's allowed redirect URLs).
 */
export function createExampleApp({ client, appUrl, sessionMinutes = 60 }) {
  const redirectUrl = `${appUrl}/authenticate`;
  const secure = appUrl.startsWith('https://');

  const routes = {
    'GET /': home,
    'GET /authenticate': authenticate,
    'POST /login/magic-link': sendMagicLink,
    'POST /login/code': sendCode,
    'POST /login/code/verify': verifyCode,
    'POST /discovery/send': sendDiscoveryLink,
    'POST /discovery/select': selectOrganization,
    'POST /discovery/create': createOrganization,
    'POST /logout': signOut,
  };

  async function handle(request, response) {
    const url = new URL(request.url ?? '/', appUrl);
    const route = routes[`${request.method} ${url.pathname}`];
    const cookies = parseCookies(request.headers.cookie);
    // Double-submit CSRF token: a random cookie that every form repeats in a hidden field.
    let csrf = cookies.example_csrf;
    if (csrf === undefined || !/^[A-Za-z0-9_-]{32}$/.test(csrf)) {
      csrf = randomBytes(24).toString('base64url');
      setCookie(response, 'example_csrf', csrf, { maxAge: 86_400, sameSite: 'Strict' });
    }
    const context = { request, response, url, cookies, csrf, form: {} };
    try {
      if (route === undefined) return send(response, 404, page('Not found', html`<p>There is no such page.</p>`));
      if (request.method === 'POST') {
        context.form = await readForm(request);
        if (!sameToken(context.form._csrf, cookies.example_csrf)) return send(response, 403, page('Form expired', html`<p>Reload the page and try again.</p>`));
      }
      await route(context);
    } catch (error) {
      sendError(response, error);
    }
  }

  // --- Who is signed in -------------------------------------------------------------------------

  async function home({ response, cookies, csrf }) {
    const token = cookies.example_session;
    if (token !== undefined) {
      try {
        const { member, organization, member_session: session } = await client.sessions.authenticate({ session_token: token });
        const factors = session.authentication_factors.map((factor) => `${factor.type} (${factor.delivery_method})`).join(', ');
        return send(
          response,
          200,
          page(
            'Signed in',
            html`<p>Welcome, <strong>${member.name || member.email_address}</strong>.</p>
<dl>
  <dt>Email</dt><dd>${member.email_address}</dd>
  <dt>Organization</dt><dd>${organization.organization_name} (<code>${organization.organization_slug}</code>)</dd>
  <dt>Member</dt><dd><code>${member.member_id}</code> (${member.status})</dd>
  <dt>Session</dt><dd><code>${session.member_session_id}</code>, until ${session.expires_at}</dd>
  <dt>Signed in with</dt><dd>${factors}</dd>
</dl>
<form method="post" action="/logout">${csrfField(csrf)}<button type="submit">Sign out</button></form>`,
          ),
        );
      } catch (error) {
        // An expired or revoked session: forget it and offer to sign in again.
        if (error?.error_type !== 'session_not_found') throw error;
        clearCookie(response, 'example_session');
      }
    }
    return send(response, 200, page('Sign in', signInForms(csrf)));
  }

  async function signOut({ response, cookies }) {
    const token = cookies.example_session;
    if (token !== undefined) {
      try {
        await client.sessions.revoke({ session_token: token });
      } catch (error) {
        if (error?.error_type !== 'session_not_found') throw error;
      }
    }
    clearCookie(response, 'example_session');
    return redirect(response, '/');
  }

  // --- Sending links and codes ------------------------------------------------------------------

  async function sendMagicLink({ response, form }) {
    const organizationId = await organizationIdOf(form.organization);
    await client.magicLinks.email.loginOrSignup({
      organization_id: organizationId,
      email_address: form.email ?? '',
      login_redirect_url: redirectUrl,
      signup_redirect_url: redirectUrl,
    });
    return send(response, 200, page('Check your email', html`<p>We sent a sign-in link to <strong>${form.email}</strong>. Open it in this browser.</p>`));
  }

  async function sendCode({ response, form, csrf }) {
    const organizationId = await organizationIdOf(form.organization);
    await client.otps.email.loginOrSignup({ organization_id: organizationId, email_address: form.email ?? '' });
    return send(response, 200, page('Enter your code', codeForm({ organizationId, email: form.email ?? '', csrf })));
  }

  async function verifyCode({ response, form, csrf }) {
    try {
      const result = await client.otps.email.authenticate({
        organization_id: form.organization_id ?? '',
        email_address: form.email ?? '',
        code: (form.code ?? '').trim(),
        session_duration_minutes: sessionMinutes,
      });
      return signedIn(response, result);
    } catch (error) {
      // A wrong code may be tried again (a few times): show the form with the error.
      if (error?.error_type !== 'unable_to_auth_otp_code') throw error;
      return send(response, 400, page('Enter your code', html`<p class="error" role="alert">${error.error_message}</p>${codeForm({ organizationId: form.organization_id ?? '', email: form.email ?? '', csrf })}`));
    }
  }

  async function sendDiscoveryLink({ response, form }) {
    await client.magicLinks.email.discovery.send({ email_address: form.email ?? '', discovery_redirect_url: redirectUrl });
    return send(response, 200, page('Check your email', html`<p>We sent a link to <strong>${form.email}</strong>. Open it to see the organizations you can sign in to.</p>`));
  }

  // --- The redirect URL -------------------------------------------------------------------------

  /** Where every emailed link lands: `?stytch_token_type=…&token=…`. */
  async function authenticate({ response, url, csrf }) {
    const type = url.searchParams.get('stytch_token_type');
    const token = url.searchParams.get('token') ?? '';
    switch (type) {
      case 'multi_tenant_magic_links':
        return signedIn(response, await client.magicLinks.authenticate({ magic_links_token: token, session_duration_minutes: sessionMinutes }));
      case 'discovery': {
        const result = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token });
        // Short-lived (10 minutes): it only lets this browser pick or create an organization.
        setCookie(response, 'example_intermediate_session', result.intermediate_session_token, { maxAge: 600 });
        return send(response, 200, page('Choose an organization', discoveredOrganizations(result, csrf)));
      }
      case 'multi_tenant_impersonation':
        return signedIn(response, await client.impersonation.authenticate({ impersonation_token: token }));
      default:
        return send(response, 400, page('Unknown link', html`<p>This app does not handle links of type <code>${type ?? '(none)'}</code>.</p>`));
    }
  }

  async function selectOrganization({ response, cookies, form }) {
    const result = await client.discovery.intermediateSessions.exchange({
      intermediate_session_token: intermediateSessionOf(cookies),
      organization_id: form.organization_id ?? '',
      session_duration_minutes: sessionMinutes,
    });
    clearCookie(response, 'example_intermediate_session');
    return signedIn(response, result);
  }

  async function createOrganization({ response, cookies, form }) {
    const result = await client.discovery.organizations.create({
      intermediate_session_token: intermediateSessionOf(cookies),
      organization_name: form.organization_name ?? '',
      ...(form.organization_slug ? { organization_slug: form.organization_slug } : {}),
      session_duration_minutes: sessionMinutes,
    });
    clearCookie(response, 'example_intermediate_session');
    return signedIn(response, result);
  }

  // --- Helpers ----------------------------------------------------------------------------------

  /** Keeps the member session in an HttpOnly cookie, or explains why there is none yet. */
  function signedIn(response, result) {
    if (!result.member_authenticated || !result.session_token) {
      return send(
        response,
        200,
        page(
          'One more step',
          html`<p>${result.organization?.organization_name ?? 'This organization'} requires another factor (${result.mfa_required ? 'MFA' : 'another sign-in method'}) that this example does not implement.</p>`,
        ),
      );
    }
    const expiresAt = Date.parse(result.member_session?.expires_at ?? '');
    const maxAge = Number.isFinite(expiresAt) ? Math.max(0, Math.floor((expiresAt - Date.now()) / 1000)) : sessionMinutes * 60;
    setCookie(response, 'example_session', result.session_token, { maxAge });
    return redirect(response, '/');
  }

  /** An organization id as given, or the id of the organization with this slug. */
  async function organizationIdOf(reference) {
    const text = (reference ?? '').trim();
    if (text.startsWith('organization-')) return text;
    const { organizations } = await client.organizations.search({
      query: { operator: 'AND', operands: [{ filter_name: 'organization_slugs', filter_value: [text] }] },
    });
    const found = organizations[0];
    if (found === undefined) throw Object.assign(new Error(`No organization has the slug "${text}".`), { status_code: 404, error_type: 'organization_not_found' });
    return found.organization_id;
  }

  function intermediateSessionOf(cookies) {
    const token = cookies.example_intermediate_session;
    if (token === undefined) throw Object.assign(new Error('The discovery link has expired: send yourself another one.'), { status_code: 400, error_type: 'no_intermediate_session' });
    return token;
  }

  function setCookie(response, name, value, { maxAge, sameSite = 'Lax' }) {
    const attributes = [`${name}=${value}`, 'Path=/', 'HttpOnly', `SameSite=${sameSite}`, `Max-Age=${maxAge}`, ...(secure ? ['Secure'] : [])];
    appendHeader(response, 'set-cookie', attributes.join('; '));
  }

  function clearCookie(response, name) {
    setCookie(response, name, '', { maxAge: 0 });
  }

  return createServer((request, response) => {
    handle(request, response).catch((error) => {
      console.error(`example app failed: ${error?.message}`);
      if (!response.headersSent) send(response, 500, page('Something went wrong', html`<p>Please try again.</p>`));
    });
  });
}

// --- Pages ----------------------------------------------------------------------------------------

function signInForms(csrf) {
  return html`<section><h2>Sign in with an email link</h2>
<form method="post" action="/login/magic-link">${csrfField(csrf)}
  <label for="ml-organization">Organization (slug or ID)</label><input id="ml-organization" name="organization" required>
  <label for="ml-email">Email</label><input id="ml-email" name="email" type="email" required autocomplete="email">
  <button type="submit">Email me a link</button>
</form></section>
<section><h2>Sign in with a one-time code</h2>
<form method="post" action="/login/code">${csrfField(csrf)}
  <label for="otp-organization">Organization (slug or ID)</label><input id="otp-organization" name="organization" required>
  <label for="otp-email">Email</label><input id="otp-email" name="email" type="email" required autocomplete="email">
  <button type="submit">Email me a code</button>
</form></section>
<section><h2>Find my organizations</h2>
<form method="post" action="/discovery/send">${csrfField(csrf)}
  <label for="discovery-email">Email</label><input id="discovery-email" name="email" type="email" required autocomplete="email">
  <button type="submit">Email me a link</button>
</form></section>`;
}

function codeForm({ organizationId, email, csrf }) {
  return html`<p>We sent a code to <strong>${email}</strong>.</p>
<form method="post" action="/login/code/verify">${csrfField(csrf)}
  <input type="hidden" name="organization_id" value="${organizationId}"><input type="hidden" name="email" value="${email}">
  <label for="code">Code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
  <button type="submit">Sign in</button>
</form>`;
}

function discoveredOrganizations(result, csrf) {
  const choices = result.discovered_organizations.filter((entry) => entry.organization !== undefined);
  return html`<p>Signed in as <strong>${result.email_address}</strong>. Where to?</p>
${
  choices.length === 0
    ? html`<p class="muted">You are not a member of any organization yet.</p>`
    : choices.map(
        (entry) => html`<section><h2>${entry.organization.organization_name}</h2>
<p class="muted">${membershipText(entry.membership?.type)}</p>
<form method="post" action="/discovery/select">${csrfField(csrf)}<input type="hidden" name="organization_id" value="${entry.organization.organization_id}"><button type="submit">Continue to ${entry.organization.organization_name}</button></form></section>`,
      )
}
<section><h2>Create an organization</h2>
<form method="post" action="/discovery/create">${csrfField(csrf)}
  <label for="organization-name">Name</label><input id="organization-name" name="organization_name" required>
  <label for="organization-slug">Slug (optional)</label><input id="organization-slug" name="organization_slug">
  <button type="submit">Create and sign in</button>
</form></section>`;
}

function membershipText(type) {
  switch (type) {
    case 'active_member':
      return 'You are a member.';
    case 'pending_member':
      return 'You were added as a member and have not signed in yet.';
    case 'invited_member':
      return 'You are invited.';
    case 'eligible_to_join_by_email_domain':
      return 'You may join: your email domain is allowed.';
    default:
      return type ?? '';
  }
}

function csrfField(csrf) {
  return html`<input type="hidden" name="_csrf" value="${csrf}">`;
}

// --- HTTP plumbing --------------------------------------------------------------------------------

function send(response, status, body) {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    'referrer-policy': 'no-referrer',
  });
  response.end(body);
}

function redirect(response, location) {
  response.writeHead(303, { location, 'cache-control': 'no-store' });
  response.end();
}

/** Shows a Stytch error as the SDK reports it (status, error_type, message); anything else is a 502. */
function sendError(response, error) {
  if (typeof error?.error_type === 'string') {
    const status = Number.isInteger(error.status_code) && error.status_code >= 400 && error.status_code < 600 ? error.status_code : 400;
    return send(response, status, page('That did not work', html`<p class="error" role="alert">${error.error_message ?? error.message}</p><p class="muted"><code>${error.error_type}</code> (${status})</p>`));
  }
  // The message only: the SDK's RequestError carries the request body, tokens included.
  console.error(`request to Understudy failed: ${error?.message}`);
  return send(response, 502, page('Cannot reach Understudy', html`<p>The sign-in server did not answer. Is Understudy running?</p>`));
}

function appendHeader(response, name, value) {
  const existing = response.getHeader(name);
  response.setHeader(name, existing === undefined ? [value] : [...[existing].flat(), value]);
}

function parseCookies(header) {
  const cookies = {};
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator === -1) continue;
    const name = part.slice(0, separator).trim();
    if (name !== '' && !Object.hasOwn(cookies, name)) cookies[name] = part.slice(separator + 1).trim();
  }
  return cookies;
}

async function readForm(request) {
  let body = '';
  for await (const chunk of request) {
    body += chunk;
    if (body.length > 16_384) throw Object.assign(new Error('The form is too large.'), { status_code: 413, error_type: 'form_too_large' });
  }
  const form = {};
  for (const [name, value] of new URLSearchParams(body)) if (!Object.hasOwn(form, name)) form[name] = value;
  return form;
}

function sameToken(given, expected) {
  if (typeof given !== 'string' || typeof expected !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
