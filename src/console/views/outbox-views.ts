import type { MailMessage, MailMode } from '../../domain/mail/mail-message.js';
import { html, type SafeHtml } from '../html.js';

/** What the page says about where mail goes, above the list. */
export function modeNotice(mode: MailMode): SafeHtml {
  return mode === 'outbox'
    ? html`<p class="notice error" role="status">No SMTP server is configured, so nothing is sent: every message is kept here instead, its link or code in clear, and anyone who can read this page can sign in as its recipient. This is for development. In production set <code>UNDERSTUDY_SMTP_URL</code> and <code>UNDERSTUDY_SMTP_FROM</code> (docs/email.md).</p>`
    : html`<p class="notice success" role="status">Messages are sent through the configured SMTP server. Their links, codes and bodies are not kept; this list shows how each delivery went, with the server's last reply.</p>`;
}

export function outboxTable(messages: readonly MailMessage[]): SafeHtml {
  if (messages.length === 0) return html`<p class="empty">No messages. Magic links, invitations and one-time codes appear here as they are sent.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">When</th><th scope="col">To</th><th scope="col">Template</th><th scope="col">Subject</th><th scope="col">Link or code</th><th scope="col">Delivery</th></tr></thead><tbody>${messages.map(
    (message) => html`<tr>
  <td>${message.createdAt}</td>
  <td>${message.to}</td>
  <td>${message.template} <span class="muted">${message.locale}</span></td>
  <td><a href="/console/outbox/${encodeURIComponent(message.messageId)}">${message.subject}</a></td>
  <td>${secretOf(message)}</td>
  <td>${delivery(message)}</td>
</tr>`,
  )}</tbody></table></div>`;
}

export function messageDetails(message: MailMessage): SafeHtml {
  return html`<div class="card"><dl class="facts">
  <dt>To</dt><dd>${message.to}</dd>
  <dt>Subject</dt><dd>${message.subject}</dd>
  <dt>Template</dt><dd>${message.template} (${message.locale})</dd>
  <dt>Created</dt><dd>${message.createdAt}</dd>
  <dt>Expires</dt><dd>${message.expiresAt}</dd>
  <dt>Link or code</dt><dd>${secretOf(message)}</dd>
  <dt>Delivery</dt><dd>${delivery(message)}</dd>
  <dt>Organization</dt><dd>${message.organizationId ?? '—'}</dd>
  <dt>Member</dt><dd>${message.memberId ?? '—'}</dd>
  <dt>Request</dt><dd><code>${message.requestId}</code></dd>
</dl></div>
${message.text === null ? '' : html`<section class="card"><h2>Plain-text body</h2><pre class="token">${message.text}</pre></section>`}
<p><a href="/console/outbox">Back to the outbox</a></p>`;
}

/** The link as a link (only http(s): a stored value never becomes a javascript: URL), or the code. */
function secretOf(message: MailMessage): SafeHtml | string {
  if (message.link !== null) {
    return /^https?:\/\//i.test(message.link) ? html`<a class="token" href="${message.link}" rel="noreferrer noopener">${message.link}</a>` : html`<span class="token">${message.link}</span>`;
  }
  if (message.code !== null) return html`<span class="token">${message.code}</span>`;
  return message.mode === 'smtp' ? html`<span class="muted">not kept (sent by SMTP)</span>` : '—';
}

function delivery(message: MailMessage): SafeHtml {
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
