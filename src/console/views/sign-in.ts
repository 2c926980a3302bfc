import { LOCKOUT_MINUTES, MAX_FAILED_ATTEMPTS, TOTP_STEP_MINUTES } from '../../domain/operators/operator.js';
import type { TotpEnrolment } from '../../domain/operators/operator-totp-service.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice, page } from './layout.js';
import { totpEnrolmentBody } from './totp-views.js';

export function signInPage(options: { csrf: string; error?: string | undefined; emailAddress?: string | undefined; next?: string | undefined }): SafeHtml {
  return page({
    title: 'Sign in',
    // The same words after every refusal: whether the account is locked is never told, only that it can be.
    body: html`<div class="login card stack">
${notice('error', options.error)}
${options.error === undefined ? '' : html`<p class="muted">After ${MAX_FAILED_ATTEMPTS} failed attempts in a row, signing in is locked for ${LOCKOUT_MINUTES} minutes.</p>`}
<form method="post" action="/console/login" class="stack">
  ${csrfField(options.csrf)}
  <input type="hidden" name="next" value="${options.next ?? ''}">
  <div><label for="email">Email address</label><input id="email" name="email" type="email" autocomplete="username" required autofocus value="${options.emailAddress ?? ''}"></div>
  <div><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
  <button type="submit">Continue</button>
</form>
<p class="muted">Operators are created with <code>understudy operators create</code>.</p>
</div>`,
  });
}

export function totpPage(options: { csrf: string; error?: string | undefined; next?: string | undefined }): SafeHtml {
  return page({
    title: 'Enter your code',
    body: html`<div class="login card stack">
${notice('error', options.error)}
<form method="post" action="/console/login/totp" class="stack">
  ${csrfField(options.csrf)}
  <input type="hidden" name="next" value="${options.next ?? ''}">
  <div><label for="code">6-digit code from your authenticator app</label><input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required autofocus></div>
  <button type="submit">Sign in</button>
</form>
</div>`,
  });
}

/** Signing in after an admin reset the operator's TOTP: a new authenticator to set up, shown once. */
export function totpEnrolmentPage(options: { enrolment: TotpEnrolment; csrf: string; next?: string | undefined; error?: string | undefined }): SafeHtml {
  return page({
    title: 'Set up your authenticator',
    body: html`<div class="login stack">${totpEnrolmentBody({
      enrolment: options.enrolment,
      action: '/console/login/totp/enrol',
      csrf: options.csrf,
      next: options.next ?? '',
      error: options.error,
      intro: `Your TOTP was reset by an admin. Set up a new authenticator to finish signing in, within ${TOTP_STEP_MINUTES} minutes of entering your password.`,
    })}</div>`,
  });
}

export function errorPage(options: { title: string; message: string; status: number; signedIn: boolean }): SafeHtml {
  return page({
    title: options.title,
    body: html`${notice('error', options.message)}<p><a href="${options.signedIn ? '/console/organizations' : '/console/login'}">${options.signedIn ? 'Back to organizations' : 'Sign in'}</a></p>`,
  });
}
