import type { SmsMessage, SmsMode } from '../../domain/sms/sms-message.js';
import { html, type SafeHtml } from '../html.js';

/** What the page says about where SMS go, above their list. */
export function smsModeNotice(mode: SmsMode): SafeHtml {
  return mode === 'outbox'
    ? html`<p class="notice error" role="status">No SMS provider is configured, so no SMS is sent: every message is kept here instead, its code in clear, and anyone who can read this page can pass the member's SMS check. This is for development. In production set <code>UNDERSTUDY_SMS_PROVIDER</code> to <code>webhook</code> or <code>twilio</code> (docs/sms.md).</p>`
    : html`<p class="notice success" role="status">SMS are sent through the configured provider (${mode}). Their codes and text are not kept; this list shows how each delivery went, with the provider's last reply.</p>`;
}

export function smsOutboxTable(messages: readonly SmsMessage[]): SafeHtml {
  if (messages.length === 0) return html`<p class="empty">No SMS. Codes for multi-factor authentication appear here as they are sent.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">To</th><th scope="col">Template</th><th scope="col">Text</th><th scope="col">Code</th><th scope="col">Delivery</th></tr></thead><tbody>${messages.map(
    (message) => html`<tr>
  <td>${message.createdAt}</td>
  <td>${message.to}</td>
  <td>SMS ${message.template} <span class="muted">${message.locale}</span></td>
  <td><a href="/console/outbox/sms/${encodeURIComponent(message.messageId)}">${message.text ?? 'SMS'}</a></td>
  <td>${codeOf(message)}</td>
  <td>${smsDelivery(message)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

export function smsMessageDetails(message: SmsMessage): SafeHtml {
  return html`<div class="card"><dl class="facts">
  <dt>Channel</dt><dd>SMS</dd>
  <dt>To</dt><dd>${message.to}</dd>
  <dt>Template</dt><dd>${message.template} (${message.locale})</dd>
  <dt>Created</dt><dd>${message.createdAt}</dd>
  <dt>Expires</dt><dd>${message.expiresAt}</dd>
  <dt>Code</dt><dd>${codeOf(message)}</dd>
  <dt>Delivery</dt><dd>${smsDelivery(message)}</dd>
  <dt>Organization</dt><dd>${message.organizationId ?? '—'}</dd>
  <dt>Member</dt><dd>${message.memberId ?? '—'}</dd>
  <dt>Request</dt><dd><code>${message.requestId}</code></dd>
</dl></div>
${message.text === null ? '' : html`<section class="card"><h2>Text</h2><pre class="token">${message.text}</pre></section>`}
<p><a href="/console/outbox">Back to the outbox</a></p>`;
}

function codeOf(message: SmsMessage): SafeHtml | string {
  if (message.code !== null) return html`<span class="token">${message.code}</span>`;
  return message.mode === 'outbox' ? '—' : html`<span class="muted">not kept (sent by ${message.mode})</span>`;
}

function smsDelivery(message: SmsMessage): SafeHtml {
  const badge =
    message.status === 'sent'
      ? html`<span class="badge ok">sent</span>`
      : message.status === 'failed'
        ? html`<span class="badge warn">failed</span>`
        : message.status === 'queued'
          ? html`<span class="badge">queued</span>`
          : html`<span class="badge">kept in the outbox</span>`;
  const attempts = message.attempts > 0 ? html` <span class="muted">${message.attempts} attempt${message.attempts === 1 ? '' : 's'}</span>` : '';
  const reply = message.lastReply === null ? '' : html`<br><span class="muted">${message.lastReply}</span>`;
  return html`${badge}${attempts}${reply}`;
}
