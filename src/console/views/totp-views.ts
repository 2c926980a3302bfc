import type { ConsoleIdentity } from '../../domain/operators/console-auth-service.js';
import { MAX_REASON_LENGTH, type Operator } from '../../domain/operators/operator.js';
import type { TotpEnrolment } from '../../domain/operators/operator-totp-service.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from './layout.js';
import { qrCodeSvg } from './qr-svg.js';

const CODE_INPUT = html`inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" required`;

/**
 * A new authenticator, shown once: the QR code, the secret and its otpauth:// URI, and the form
 * that confirms it with a code from it. Nothing is stored until that code is accepted.
 */
export function totpEnrolmentBody(options: { enrolment: TotpEnrolment; action: string; csrf: string; intro: string; next?: string | undefined; error?: string | undefined }): SafeHtml {
  const { enrolment } = options;
  return html`${notice('error', options.error)}
<div class="card stack">
<p>${options.intro}</p>
<ol>
  <li>Scan the QR code with your authenticator app, or add the secret by hand (6 digits, 30 seconds, SHA-1).</li>
  <li>Enter the 6-digit code the app now shows for it. Until then your authenticator does not change.</li>
</ol>
${qrCodeSvg(enrolment.uri, 'QR code of the new authenticator entry')}
<dl class="facts">
  <dt>Secret</dt><dd><span class="token" id="totp-secret">${enrolment.secret}</span> <button type="button" class="secondary" data-copy="totp-secret">Copy</button></dd>
  <dt>URI</dt><dd><span class="token" id="totp-uri">${enrolment.uri}</span></dd>
  <dt>Set up by</dt><dd>${enrolment.expiresAt}</dd>
</dl>
<form method="post" action="${options.action}" class="stack">
  ${csrfField(options.csrf)}
  <input type="hidden" name="ticket" value="${enrolment.ticket}">
  ${options.next === undefined ? '' : html`<input type="hidden" name="next" value="${options.next}">`}
  <div><label for="new-code">Code from the new authenticator entry</label><input id="new-code" name="code" ${CODE_INPUT} autofocus></div>
  <button type="submit">Confirm new authenticator</button>
</form>
<p class="muted">The secret is shown on this page only and is not stored until you confirm it. If you leave before confirming, start again for a new one.</p>
</div>`;
}

/** The signed-in operator's own page: who they are and replacing their authenticator. */
export function accountBody(options: { identity: ConsoleIdentity; csrf: string; error?: string | undefined; message?: string | undefined }): SafeHtml {
  const { operator } = options.identity;
  const hasTotp = operator.sealedTotpSecret !== null;
  return html`${notice('success', options.message)}${notice('error', options.error)}
<section class="card" aria-labelledby="profile"><h2 id="profile">Profile</h2>
<dl class="facts">
  <dt>Email</dt><dd>${operator.emailAddress}</dd>
  <dt>Name</dt><dd>${operator.name}</dd>
  <dt>Role</dt><dd>${operator.role}</dd>
  <dt>TOTP</dt><dd>${hasTotp ? 'yes' : 'no'}</dd>
</dl></section>
<section class="card stack" aria-labelledby="authenticator"><h2 id="authenticator">${hasTotp ? 'Replace your authenticator' : 'Add an authenticator'}</h2>
<p>${
    hasTotp
      ? 'Enter your password and a current code to get a new TOTP secret. Your current authenticator keeps working until you confirm the new one with a code from it. Your other console sessions then end.'
      : 'Enter your password to get a TOTP secret. Once you confirm it with a code from your app, signing in asks for a code too.'
  }</p>
<form method="post" action="/console/account/totp" class="stack">
  ${csrfField(options.csrf)}
  <div><label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required></div>
  ${hasTotp ? html`<div><label for="code">Current code from your authenticator app</label><input id="code" name="code" ${CODE_INPUT}></div>` : ''}
  <button type="submit">${hasTotp ? 'Get a new secret' : 'Get a secret'}</button>
</form></section>`;
}

/** An admin resetting another operator's TOTP: what happens, and a reason for the audit trail. */
export function operatorTotpResetConfirmation(options: { operator: Operator; csrf: string; reason?: string | undefined; error?: string | undefined }): SafeHtml {
  const { operator } = options;
  return html`<p><a href="/console/operators">← Operators</a></p>
${notice('error', options.error)}
<section class="card stack" aria-labelledby="confirm"><h2 id="confirm">Reset the TOTP of ${operator.emailAddress} (${operator.role})?</h2>
<p>Their authenticator stops working, and their console sessions and the impersonations they started end now. ${
    operator.role === 'viewer'
      ? 'As a viewer they then sign in with their password alone, and may add a new authenticator on their account page.'
      : 'At their next sign-in, after their password, they set up a new authenticator before they can do anything else.'
  }</p>
<p class="muted">Whoever knows their password can set up the new authenticator: if the password may be known to someone else too, reset it as well (<code>understudy operators reset-password</code>).</p>
<form method="post" action="/console/operators/${encodeURIComponent(operator.operatorId)}/reset-totp" class="stack">
  ${csrfField(options.csrf)}
  <div><label for="reason">Reason (required, e.g. the ticket)</label><textarea id="reason" name="reason" required maxlength="${MAX_REASON_LENGTH}">${options.reason ?? ''}</textarea></div>
  <button class="danger" type="submit">Reset TOTP</button> <a href="/console/operators">Cancel</a>
</form></section>`;
}
