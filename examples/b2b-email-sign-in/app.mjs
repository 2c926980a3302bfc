import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { html, page } from './html.mjs';
import { supportAccessRoutes } from './support-access.mjs';

/**
 * A customer's web app that signs members in by email and password through the official stytch SDK:
 *
 *   - a password for one organization              (passwords.authenticate)
 *   - "forgot password", also how a member chooses  (passwords.email.resetStart -> passwords.email.reset)
 *     a first password
 *   - a magic link to sign in to one organization  (magicLinks.email.loginOrSignup -> magicLinks.authenticate)
 *   - a one-time code for one organization         (otps.email.loginOrSignup -> otps.email.authenticate)
 *   - discovery: email -> pick an organization     (magicLinks.email.discovery.send -> magicLinks.discovery.authenticate
 *                                                    -> discovery.intermediateSessions.exchange)
 *   - MFA, when a sign-in answers mfa_required     (totps.create on first use -> totps.authenticate;
 *                                                    recoveryCodes.recover; otps.sms.send -> otps.sms.authenticate)
 *   - SSO through the organization's identity     (organizations.search / get for its SSO connections -> the
 *     provider (SAML or OIDC)                        browser to Stytch's /v1/public/sso/start with PKCE -> the IdP ->
 *                                                    back with an SSO token -> sso.authenticate)
 *   - "Support access" for a signed-in member      (support-access.mjs: sessions.authenticate with authorization_check,
 *                                                    and Understudy's extension endpoints, understudy-extension.mjs)
 *
 * The member session token lives in an HttpOnly cookie; every page load checks it with
 * sessions.authenticate, and signing out revokes it with sessions.revoke.
 *
 * `client` is a stytch B2BClient; `appUrl` is where browsers reach this app. Its redirect URLs must
 * be allowed for the project: `${appUrl}/authenticate` (login, signup, discovery) and
 * `${appUrl}/reset` (reset_password). `understudy` ({ url, projectId, secret }) is where Understudy's
 * own endpoints are called for the "Support access" pages; without it those pages say so. `sso`
 * ({ url, publicToken }) is where browsers reach Understudy and the project's public token, for
 * "Sign in with SSO"; without it that form says so.
 */
export function createExampleApp({ client, appUrl, sessionMinutes = 60, understudy, sso }) {
  const redirectUrl = `${appUrl}/authenticate`;
  const resetUrl = `${appUrl}/reset`;
  const secure = appUrl.startsWith('https://');

  const routes = {
    'GET /': home,
    'GET /authenticate': authenticate,
    'POST /login/password': signInWithPassword,
    'GET /password/forgot': forgotPassword,
    'POST /password/forgot': sendPasswordReset,
    'GET /reset': resetPasswordForm,
    'POST /reset': resetPassword,
    'POST /login/magic-link': sendMagicLink,
    'POST /login/code': sendCode,
    'POST /login/code/verify': verifyCode,
    'POST /login/sso': startSso,
    'POST /discovery/send': sendDiscoveryLink,
    'POST /discovery/select': selectOrganization,
    'POST /discovery/create': createOrganization,
    'POST /mfa/totp': verifyTotp,
    'POST /mfa/recovery-code': useRecoveryCode,
    'POST /mfa/sms': verifySms,
    'POST /logout': signOut,
    ...supportAccessRoutes({ client, understudy, respond: { send, redirect, csrfField } }),
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
  <dt>Roles</dt><dd>${session.roles.join(', ')}</dd>
</dl>
<p><a href="/support-access">Support access</a>: who may impersonate members of ${organization.organization_name}, and who impersonated you.</p>
<form method="post" action="/logout">${csrfField(csrf)}<button type="submit">Sign out</button></form>`,
          ),
        );
      } catch (error) {
        // An expired or revoked session: forget it and offer to sign in again.
        if (error?.error_type !== 'session_not_found') throw error;
        clearCookie(response, 'example_session');
      }
    }
    return send(response, 200, page('Sign in', signInForms(csrf, sso !== undefined)));
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

  // --- Passwords --------------------------------------------------------------------------------

  async function signInWithPassword({ response, form, csrf }) {
    const organizationId = await organizationIdOf(form.organization);
    try {
      const result = await client.passwords.authenticate({
        organization_id: organizationId,
        email_address: form.email ?? '',
        password: form.password ?? '',
        session_duration_minutes: sessionMinutes,
      });
      return signedIn(response, result, csrf);
    } catch (error) {
      const problem = passwordSignInProblem(error);
      if (problem === undefined) throw error;
      // The form again, the organization and address kept (never the password), with what went wrong.
      const status = Number.isInteger(error.status_code) ? error.status_code : 400;
      return send(
        response,
        status,
        page('Sign in with a password', html`<p class="error" role="alert">${problem}</p><p class="muted"><code>${error.error_type}</code></p>${passwordForm({ organization: form.organization, email: form.email, csrf })}`),
      );
    }
  }

  /** "Forgot password?": also how a member added by an admin (who has no password yet) chooses one. */
  async function forgotPassword({ response, url, csrf }) {
    const organization = url.searchParams.get('organization') ?? '';
    const email = url.searchParams.get('email') ?? '';
    return send(response, 200, page('Forgot your password?', forgotPasswordForm({ organization, email, csrf })));
  }

  async function sendPasswordReset({ response, form }) {
    const organizationId = await organizationIdOf(form.organization);
    try {
      await client.passwords.email.resetStart({
        organization_id: organizationId,
        email_address: form.email ?? '',
        reset_password_redirect_url: resetUrl,
        // The message also carries a magic link to sign in without a password; it lands on /authenticate.
        login_redirect_url: redirectUrl,
      });
    } catch (error) {
      // The same answer whether or not the address is a member, so this form tells nobody who is.
      if (error?.error_type !== 'member_not_found') throw error;
    }
    return send(
      response,
      200,
      page('Check your email', html`<p>If <strong>${form.email}</strong> is a member of this organization, we sent it a link to choose a new password.</p>`),
    );
  }

  /** Where the reset link lands: `?stytch_token_type=multi_tenant_passwords&token=…`. */
  async function resetPasswordForm({ response, url, csrf }) {
    const type = url.searchParams.get('stytch_token_type');
    const token = url.searchParams.get('token') ?? '';
    if (type !== 'multi_tenant_passwords' || token === '') {
      return send(response, 400, page('Unknown link', html`<p>This is not a password reset link. <a href="/password/forgot">Ask for a new one</a>.</p>`));
    }
    return send(response, 200, page('Choose a new password', newPasswordForm({ token, csrf })));
  }

  async function resetPassword({ response, form, csrf }) {
    const token = form.token ?? '';
    try {
      const result = await client.passwords.email.reset({ password_reset_token: token, password: form.password ?? '', session_duration_minutes: sessionMinutes });
      return signedIn(response, result, csrf);
    } catch (error) {
      switch (error?.error_type) {
        // The link still works: the same form again, with why and how to do better.
        case 'weak_password':
        case 'breached_password': {
          const problem = error.error_type === 'weak_password' ? 'That password is too weak. Choose a longer one that is harder to guess.' : 'That password has appeared in a data breach. Choose another one.';
          const feedback = error.error_type === 'weak_password' ? await strengthFeedback(form.password ?? '') : '';
          return send(
            response,
            400,
            page('Choose a new password', html`<p class="error" role="alert">${problem}</p><p class="muted"><code>${error.error_type}</code></p>${feedback}${newPasswordForm({ token, csrf })}`),
          );
        }
        case 'unable_to_auth_password_reset_token':
          return send(
            response,
            401,
            page('This link no longer works', html`<p class="error" role="alert">The password reset link has expired or was already used.</p><p><a href="/password/forgot">Send me a new link</a></p>`),
          );
        default:
          throw error;
      }
    }
  }

  /** How strong the project's policy finds a refused password, and how to do better (passwords.strengthCheck). */
  async function strengthFeedback(password) {
    let check;
    try {
      check = await client.passwords.strengthCheck({ password });
    } catch (error) {
      // Only advice: the page still says why the password was refused.
      console.error(`password strength check failed: ${error?.error_type ?? error?.message}`);
      return '';
    }
    if (check.strength_policy === 'luds') {
      const luds = check.luds_feedback;
      const missing = [
        !luds.has_lower_case && 'a lower-case letter',
        !luds.has_upper_case && 'an upper-case letter',
        !luds.has_digit && 'a digit',
        !luds.has_symbol && 'a symbol',
      ].filter(Boolean);
      const hints = [
        luds.missing_characters > 0 && `at least ${luds.missing_characters} more character${luds.missing_characters === 1 ? '' : 's'}`,
        luds.missing_complexity > 0 && `${luds.missing_complexity} more of: ${missing.join(', ')}`,
      ].filter(Boolean);
      if (hints.length === 0) return '';
      return html`<section aria-label="Password strength"><h2>How to make it stronger</h2><ul>${hints.map((hint) => html`<li>${hint}</li>`)}</ul></section>`;
    }
    const { warning, suggestions } = check.zxcvbn_feedback;
    // Checked here without the address (the link does not say whose it is), a password can pass
    // that the reset, which counts the member's address and name against it, refused.
    const close = check.valid_password ? html`<p>It is too close to your email address or name.</p>` : '';
    return html`<section aria-label="Password strength"><h2>Password strength</h2>
<p><meter min="0" max="4" low="2" high="3" optimum="4" value="${check.score}">${check.score} of 4</meter> ${check.score} of 4 (3 needed)</p>
${close}${warning ? html`<p>${warning}</p>` : ''}${suggestions.length > 0 ? html`<ul>${suggestions.map((suggestion) => html`<li>${suggestion}</li>`)}</ul>` : ''}</section>`;
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
      return signedIn(response, result, csrf);
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

  /** Where every emailed link, and the way back from an SSO sign-in, lands: `?stytch_token_type=…&token=…`. */
  async function authenticate({ response, url, cookies, csrf }) {
    const type = url.searchParams.get('stytch_token_type');
    const token = url.searchParams.get('token') ?? '';
    switch (type) {
      case 'multi_tenant_magic_links':
        return signedIn(response, await client.magicLinks.authenticate({ magic_links_token: token, session_duration_minutes: sessionMinutes }), csrf);
      case 'discovery': {
        const result = await client.magicLinks.discovery.authenticate({ discovery_magic_links_token: token });
        // Short-lived (10 minutes): it only lets this browser pick or create an organization.
        setCookie(response, 'example_intermediate_session', result.intermediate_session_token, { maxAge: 600 });
        return send(response, 200, page('Choose an organization', discoveredOrganizations(result, csrf)));
      }
      case 'multi_tenant_impersonation':
        return signedIn(response, await client.impersonation.authenticate({ impersonation_token: token }), csrf);
      case 'sso': {
        // The verifier pairs with this one sign-in (its token is single-use): forgotten whatever the outcome.
        const verifier = cookies.example_sso_pkce;
        clearCookie(response, 'example_sso_pkce');
        const result = await client.sso.authenticate({
          sso_token: token,
          // Absent when the IdP started the sign-in (SAML IdP-initiated): Understudy then asks for none.
          ...(verifier !== undefined && { pkce_code_verifier: verifier }),
          session_duration_minutes: sessionMinutes,
        });
        return signedIn(response, result, csrf);
      }
      default:
        return send(response, 400, page('Unknown link', html`<p>This app does not handle links of type <code>${type ?? '(none)'}</code>.</p>`));
    }
  }

  async function selectOrganization({ response, cookies, form, csrf }) {
    const result = await client.discovery.intermediateSessions.exchange({
      intermediate_session_token: intermediateSessionOf(cookies),
      organization_id: form.organization_id ?? '',
      session_duration_minutes: sessionMinutes,
    });
    clearCookie(response, 'example_intermediate_session');
    return signedIn(response, result, csrf);
  }

  async function createOrganization({ response, cookies, form, csrf }) {
    const result = await client.discovery.organizations.create({
      intermediate_session_token: intermediateSessionOf(cookies),
      organization_name: form.organization_name ?? '',
      ...(form.organization_slug ? { organization_slug: form.organization_slug } : {}),
      session_duration_minutes: sessionMinutes,
    });
    clearCookie(response, 'example_intermediate_session');
    return signedIn(response, result, csrf);
  }

  // --- SSO ------------------------------------------------------------------------------------

  /**
   * "Sign in with SSO": the organization's connection (the one picked, its default, or its only
   * active one; a choice when it has several), then the browser goes to Stytch's start URL, which
   * sends it on to the identity provider. The IdP's answer comes back through Stytch to
   * /authenticate with `stytch_token_type=sso`. The PKCE code verifier stays in this browser, in a
   * short-lived HttpOnly cookie (Stytch's frontend SDK keeps it in local storage): only the browser
   * that started the sign-in can finish it.
   */
  async function startSso({ response, form, csrf }) {
    if (sso === undefined) return send(response, 400, page('Sign in with SSO', ssoNotSetUp()));
    const organization = await organizationOf(form.organization);
    const active = organization.sso_active_connections ?? [];
    const chosen = form.connection_id
      ? active.find((connection) => connection.connection_id === form.connection_id)
      : (active.find((connection) => connection.connection_id === organization.sso_default_connection_id) ?? (active.length === 1 ? active[0] : undefined));
    if (chosen === undefined && active.length > 1 && !form.connection_id) {
      return send(response, 200, page('Sign in with SSO', ssoConnectionChoice({ organization, connections: active, csrf })));
    }
    if (chosen === undefined) {
      return send(
        response,
        400,
        page('Sign in with SSO', html`<p class="error" role="alert">${organization.organization_name} has no active SSO connection${form.connection_id ? ' by that id' : ''}. Sign in another way.</p>`),
      );
    }
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    // As long as Understudy waits for the IdP's answer (10 minutes).
    setCookie(response, 'example_sso_pkce', verifier, { maxAge: 600 });
    const start = new URL(`${sso.url}/v1/public/sso/start`);
    start.search = new URLSearchParams({
      connection_id: chosen.connection_id,
      public_token: sso.publicToken,
      login_redirect_url: redirectUrl,
      signup_redirect_url: redirectUrl,
      pkce_code_challenge: challenge,
    }).toString();
    // Not a redirect of the form's POST: this app's CSP (`form-action 'self'`) binds a form's redirects
    // too, and this sign-in goes on to Understudy and the IdP. A refresh is a navigation of its own.
    response.setHeader('refresh', `0; url=${start}`);
    return send(response, 200, page('Signing in with SSO', html`<p>Taking you to ${organization.organization_name}'s identity provider… <a href="${start.toString()}">Continue</a></p>`));
  }

  // --- The second factor (MFA) -----------------------------------------------------------------

  /**
   * A sign-in that answered `mfa_required`: the organization requires MFA (or the member enrolled).
   * The intermediate session token it returned waits in a short-lived HttpOnly cookie: it is no
   * session, it only lets this browser finish the sign-in with a second factor. A member with an
   * authenticator app enters its code; a member whose phone the sign-in already texted enters that
   * code; a member with no second factor yet sets up an authenticator app (totps.create) first.
   */
  async function secondFactor(response, result, csrf) {
    const token = result.intermediate_session_token;
    setCookie(response, 'example_mfa', token, { maxAge: 600 });
    const who = { organizationId: result.organization.organization_id, memberId: result.member.member_id, csrf };
    const options = result.mfa_required.member_options;
    if (result.mfa_required.secondary_auth_initiated === 'sms_otp') return send(response, 200, page('Enter the code we texted you', smsForm({ ...who, phone: options?.mfa_phone_number })));
    if (options?.totp_registration_id) return send(response, 200, page('Enter your authenticator code', totpForm(who)));
    if (options?.mfa_phone_number) {
      await client.otps.sms.send({ organization_id: who.organizationId, member_id: who.memberId, intermediate_session_token: token });
      return send(response, 200, page('Enter the code we texted you', smsForm({ ...who, phone: options.mfa_phone_number })));
    }
    // No second factor yet: the intermediate session, which holds the first, lets the member enrol one.
    const created = await client.totps.create({ organization_id: who.organizationId, member_id: who.memberId, intermediate_session_token: token });
    return send(response, 200, page('Set up your authenticator app', totpEnrolment({ ...who, created, organizationName: result.organization.organization_name })));
  }

  async function verifyTotp({ response, cookies, form, csrf }) {
    const who = { organizationId: form.organization_id ?? '', memberId: form.member_id ?? '', csrf };
    try {
      const result = await client.totps.authenticate({
        organization_id: who.organizationId,
        member_id: who.memberId,
        code: (form.code ?? '').trim(),
        intermediate_session_token: mfaSessionOf(cookies),
        session_duration_minutes: sessionMinutes,
      });
      clearCookie(response, 'example_mfa');
      return signedIn(response, result, csrf);
    } catch (error) {
      // A wrong, malformed or already used code may be tried again: the form with the error.
      if (!['unable_to_authenticate_totp', 'invalid_totp_code', 'totp_code_already_authenticated'].includes(error?.error_type)) throw error;
      return send(response, error.status_code ?? 400, page('Enter your authenticator code', html`<p class="error" role="alert">${error.error_message}</p>${totpForm(who)}`));
    }
  }

  async function useRecoveryCode({ response, cookies, form, csrf }) {
    const who = { organizationId: form.organization_id ?? '', memberId: form.member_id ?? '', csrf };
    try {
      const result = await client.recoveryCodes.recover({
        organization_id: who.organizationId,
        member_id: who.memberId,
        recovery_code: (form.recovery_code ?? '').trim(),
        intermediate_session_token: mfaSessionOf(cookies),
        session_duration_minutes: sessionMinutes,
      });
      clearCookie(response, 'example_mfa');
      return signedIn(response, result, csrf);
    } catch (error) {
      if (!['unable_to_authenticate_recovery_code', 'invalid_recovery_code'].includes(error?.error_type)) throw error;
      return send(response, error.status_code ?? 400, page('Enter your authenticator code', html`<p class="error" role="alert">${error.error_message}</p>${totpForm(who)}`));
    }
  }

  async function verifySms({ response, cookies, form, csrf }) {
    const who = { organizationId: form.organization_id ?? '', memberId: form.member_id ?? '', csrf };
    try {
      const result = await client.otps.sms.authenticate({
        organization_id: who.organizationId,
        member_id: who.memberId,
        code: (form.code ?? '').trim(),
        intermediate_session_token: mfaSessionOf(cookies),
        session_duration_minutes: sessionMinutes,
      });
      clearCookie(response, 'example_mfa');
      return signedIn(response, result, csrf);
    } catch (error) {
      if (error?.error_type !== 'unable_to_auth_otp_code') throw error;
      return send(response, error.status_code ?? 400, page('Enter the code we texted you', html`<p class="error" role="alert">${error.error_message}</p>${smsForm(who)}`));
    }
  }

  // --- Helpers ----------------------------------------------------------------------------------

  /**
   * Keeps the member session in an HttpOnly cookie; a sign-in that still needs MFA goes on to the
   * second factor. (The second factors' answers always carry a session and no `member_authenticated`.)
   */
  async function signedIn(response, result, csrf) {
    if (result.member_authenticated === false || !result.session_token) {
      if (result.mfa_required && !result.primary_required && result.intermediate_session_token) return secondFactor(response, result, csrf);
      return send(
        response,
        200,
        page('One more step', html`<p>${result.organization?.organization_name ?? 'This organization'} requires another sign-in method that this example does not implement.</p>`),
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
    return (await organizationBySlug(text)).organization_id;
  }

  /** The organization named by its id or slug (with its SSO connections). */
  async function organizationOf(reference) {
    const text = (reference ?? '').trim();
    if (text.startsWith('organization-')) return (await client.organizations.get({ organization_id: text })).organization;
    return organizationBySlug(text);
  }

  async function organizationBySlug(slug) {
    const { organizations } = await client.organizations.search({
      query: { operator: 'AND', operands: [{ filter_name: 'organization_slugs', filter_value: [slug] }] },
    });
    const found = organizations[0];
    if (found === undefined) throw Object.assign(new Error(`No organization has the slug "${slug}".`), { status_code: 404, error_type: 'organization_not_found' });
    return found;
  }

  function mfaSessionOf(cookies) {
    const token = cookies.example_mfa;
    if (token === undefined) throw Object.assign(new Error('This sign-in has expired: sign in again.'), { status_code: 400, error_type: 'no_intermediate_session' });
    return token;
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

/** What the password sign-in form says about a refusal the member can act on; undefined for other errors. */
function passwordSignInProblem(error) {
  switch (error?.error_type) {
    case 'unauthorized_credentials':
      return error.error_message;
    case 'user_lock_limit_reached':
      return 'Too many wrong passwords: signing in with a password is locked for now. Try again later, or choose a new password with "Forgot password?".';
    case 'member_reset_password':
      return 'You need to choose a new password before signing in with one: use "Forgot password?" below.';
    default:
      return undefined;
  }
}

function passwordForm({ organization = '', email = '', csrf }) {
  const forgot = `/password/forgot${organization || email ? `?${new URLSearchParams({ organization, email })}` : ''}`;
  return html`<form method="post" action="/login/password">${csrfField(csrf)}
  <label for="pw-organization">Organization (slug or ID)</label><input id="pw-organization" name="organization" value="${organization}" required>
  <label for="pw-email">Email</label><input id="pw-email" name="email" type="email" value="${email}" required autocomplete="username">
  <label for="pw-password">Password</label><input id="pw-password" name="password" type="password" required autocomplete="current-password">
  <button type="submit">Sign in</button>
</form>
<p><a href="${forgot}">Forgot password?</a></p>`;
}

function forgotPasswordForm({ organization, email, csrf }) {
  return html`<p>We will email you a link to choose a new password. If you have never had one, this is how you choose your first.</p>
<form method="post" action="/password/forgot">${csrfField(csrf)}
  <label for="forgot-organization">Organization (slug or ID)</label><input id="forgot-organization" name="organization" value="${organization}" required>
  <label for="forgot-email">Email</label><input id="forgot-email" name="email" type="email" value="${email}" required autocomplete="email">
  <button type="submit">Email me a link</button>
</form>`;
}

function newPasswordForm({ token, csrf }) {
  return html`<form method="post" action="/reset">${csrfField(csrf)}
  <input type="hidden" name="token" value="${token}">
  <label for="new-password">New password</label><input id="new-password" name="password" type="password" required autocomplete="new-password">
  <button type="submit">Save password and sign in</button>
</form>`;
}

function signInForms(csrf, ssoSetUp) {
  return html`<section><h2>Sign in with a password</h2>
${passwordForm({ csrf })}</section>
<section><h2>Sign in with an email link</h2>
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
<section><h2>Sign in with SSO</h2>
${
  ssoSetUp
    ? html`<p class="muted">Through your organization's identity provider (Okta, Entra ID, Google Workspace…).</p>
<form method="post" action="/login/sso">${csrfField(csrf)}
  <label for="sso-organization">Organization (slug or ID)</label><input id="sso-organization" name="organization" required>
  <button type="submit">Continue with SSO</button>
</form>`
    : ssoNotSetUp()
}</section>
<section><h2>Find my organizations</h2>
<form method="post" action="/discovery/send">${csrfField(csrf)}
  <label for="discovery-email">Email</label><input id="discovery-email" name="email" type="email" required autocomplete="email">
  <button type="submit">Email me a link</button>
</form></section>`;
}

function ssoNotSetUp() {
  return html`<p class="muted">SSO is not set up in this app: start it with <code>STYTCH_PUBLIC_TOKEN</code> (Understudy prints the project's public token).</p>`;
}

/** An organization with several active connections: the member picks theirs. */
function ssoConnectionChoice({ organization, connections, csrf }) {
  return html`<p>${organization.organization_name} signs in through more than one identity provider. Which is yours?</p>
${connections.map(
  (connection) => html`<form method="post" action="/login/sso">${csrfField(csrf)}
  <input type="hidden" name="organization" value="${organization.organization_id}"><input type="hidden" name="connection_id" value="${connection.connection_id}">
  <button type="submit">${connection.display_name || connection.connection_id} (${connection.identity_provider})</button>
</form>`,
)}`;
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

/** The member and organization a second factor is for; the intermediate session in the cookie must be theirs. */
function memberFields({ organizationId, memberId }) {
  return html`<input type="hidden" name="organization_id" value="${organizationId}"><input type="hidden" name="member_id" value="${memberId}">`;
}

function totpCodeForm(who, button) {
  return html`<form method="post" action="/mfa/totp">${csrfField(who.csrf)}${memberFields(who)}
  <label for="totp-code">6-digit code from your authenticator app</label><input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
  <button type="submit">${button}</button>
</form>`;
}

function totpForm(who) {
  return html`${totpCodeForm(who, 'Verify')}
<section><h2>Lost your device?</h2>
<form method="post" action="/mfa/recovery-code">${csrfField(who.csrf)}${memberFields(who)}
  <label for="recovery-code">Recovery code</label><input id="recovery-code" name="recovery_code" autocomplete="off" required>
  <button type="submit">Use recovery code</button>
</form></section>`;
}

/** totps.create's answer: the QR code (a data: URL) to scan, the key to type in instead, and the recovery codes, shown once. */
function totpEnrolment({ created, organizationName, ...who }) {
  return html`<p>${organizationName} requires a second factor. Scan this QR code with your authenticator app, or enter the key by hand, then type the code it shows.</p>
<p><img src="${created.qr_code}" alt="QR code for your authenticator app" width="180" height="180"></p>
<p>Key: <code id="totp-secret">${created.secret}</code></p>
${totpCodeForm(who, 'Verify and sign in')}
<section aria-label="Recovery codes"><h2>Your recovery codes</h2>
<p class="muted">Keep them somewhere safe: each one signs you in once if you lose your device. They are not shown again.</p>
<ul id="recovery-codes">${created.recovery_codes.map((code) => html`<li><code>${code}</code></li>`)}</ul></section>`;
}

function smsForm({ phone, ...who }) {
  return html`${phone ? html`<p>We texted a code to <strong>${phone}</strong>.</p>` : ''}
<form method="post" action="/mfa/sms">${csrfField(who.csrf)}${memberFields(who)}
  <label for="sms-code">Code from the text message</label><input id="sms-code" name="code" inputmode="numeric" autocomplete="one-time-code" required>
  <button type="submit">Verify</button>
</form>`;
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
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'",
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
