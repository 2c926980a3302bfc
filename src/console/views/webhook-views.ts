import type { WebhookDelivery, WebhookEndpoint } from '../../domain/webhooks/webhook.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from './layout.js';

/** Endpoints (with forms to add and disable them, for admins) and the delivery log, newest first. */
export function webhooksPage(options: {
  endpoints: readonly WebhookEndpoint[];
  deliveries: readonly WebhookDelivery[];
  canEdit: boolean;
  csrf: string;
  status: string;
  message: string | undefined;
}): SafeHtml {
  const { endpoints, deliveries, canEdit, csrf } = options;
  return html`${notice('success', options.message)}
<p class="muted">Every impersonation event, signed the Standard Webhooks way: the project's endpoints receive every organization's events and the published audit chain heads, an organization's endpoints its own events. Failed deliveries are retried with growing waits (docs/webhooks.md).</p>
<h2>Endpoints</h2>
${
  endpoints.length === 0
    ? html`<p class="empty">No endpoints yet.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Endpoint</th><th scope="col">Receives</th><th scope="col">URL</th><th scope="col">Description</th><th scope="col">Added</th><th scope="col">State</th>${canEdit ? html`<th scope="col"><span class="muted">Action</span></th>` : ''}</tr></thead><tbody>${endpoints.map(
        (endpoint) => html`<tr>
<td><code>${endpoint.endpointId}</code></td>
<td>${endpoint.organizationId === null ? html`<span class="badge">project: every organization</span>` : html`<a href="/console/organizations/${encodeURIComponent(endpoint.organizationId)}"><code>${endpoint.organizationId}</code></a>`}</td>
<td><code>${endpoint.url}</code></td>
<td>${endpoint.description}</td>
<td>${endpoint.createdAt}</td>
<td>${endpoint.disabledAt === null ? html`<span class="badge ok">enabled</span>` : html`<span class="badge">disabled ${endpoint.disabledAt}</span>`}</td>
${
  canEdit
    ? html`<td>${
        endpoint.disabledAt === null
          ? html`<form method="post" action="/console/webhooks/disable" data-confirm="Disable this endpoint? It receives nothing more, and deliveries still pending to it fail.">${csrfField(csrf)}<input type="hidden" name="endpoint_id" value="${endpoint.endpointId}"><button class="danger" type="submit" aria-label="Disable ${endpoint.url}">Disable</button></form>`
          : ''
      }</td>`
    : ''
}</tr>`,
      )}</tbody></table></div>`
}
${canEdit ? addForm(csrf) : html`<p class="muted">Only admins can add or disable endpoints.</p>`}
<h2 id="deliveries">Deliveries</h2>
<form method="get" action="/console/webhooks#deliveries" class="inline" role="search">
  <div><label for="status">Status</label><select id="status" name="status">${['', 'pending', 'delivered', 'failed'].map(
    (status) => html`<option value="${status}" ${options.status === status ? 'selected' : ''}>${status === '' ? 'any' : status}</option>`,
  )}</select></div>
  <button type="submit">Filter</button>
</form>
${deliveriesTable(deliveries)}`;
}

function deliveriesTable(deliveries: readonly WebhookDelivery[]): SafeHtml {
  if (deliveries.length === 0) return html`<p class="empty">No deliveries. Impersonation events appear here once an endpoint receives them.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">Created</th><th scope="col">Event</th><th scope="col">Endpoint</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Next attempt</th></tr></thead><tbody>${deliveries.map(
    (delivery) => html`<tr>
<td>${delivery.createdAt}</td>
<td>${delivery.eventType}<br><code class="muted">${delivery.eventId}</code></td>
<td><code>${delivery.endpointId}</code></td>
<td><span class="badge${delivery.status === 'delivered' ? ' ok' : delivery.status === 'failed' ? ' warn' : ''}">${delivery.status}</span></td>
<td>${delivery.attempts}</td>
<td>${delivery.lastStatusCode === null ? '' : html`HTTP ${delivery.lastStatusCode} `}${delivery.lastStatusCode !== null && delivery.lastError === null ? '' : delivery.lastError ?? ''}</td>
<td>${delivery.status === 'pending' ? (delivery.nextAttemptAt ?? '') : ''}</td>
</tr>`,
  )}</tbody></table></div>`;
}

function addForm(csrf: string): SafeHtml {
  return html`<section class="card"><h2>Add an endpoint</h2>
<form method="post" action="/console/webhooks" class="inline">
  ${csrfField(csrf)}
  <div><label for="url">URL</label><input id="url" name="url" type="url" required placeholder="https://hooks.example.com/understudy"></div>
  <div><label for="organization">Organization (empty: the project's)</label><input id="organization" name="organization" placeholder="organization id, slug or external id"></div>
  <div><label for="description">Description</label><input id="description" name="description" maxlength="200"></div>
  <button type="submit">Add endpoint</button>
</form>
<p class="muted">https:// only, without user:password@, and not on an internal address unless UNDERSTUDY_WEBHOOK_ALLOW_PRIVATE_ADDRESSES is set. The signing secret is shown once, on the next page.</p></section>`;
}

/** The page after adding: the secret, this once. */
export function endpointAddedPage(endpoint: WebhookEndpoint, secret: string): SafeHtml {
  return html`<p class="notice success" role="status">Endpoint added. Copy its signing secret now: it is not shown again.</p>
<div class="card"><dl class="facts">
  <dt>Endpoint</dt><dd><code>${endpoint.endpointId}</code></dd>
  <dt>URL</dt><dd><code>${endpoint.url}</code></dd>
  <dt>Receives</dt><dd>${endpoint.organizationId === null ? "the project's: every organization's events" : html`organization <code>${endpoint.organizationId}</code>`}</dd>
  <dt>Signing secret</dt><dd><code class="token" id="webhook-secret">${secret}</code></dd>
</dl></div>
<p><a href="/console/webhooks">Back to webhooks</a></p>`;
}
