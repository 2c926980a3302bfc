import { REDIRECT_URL_TYPES, type RedirectUrlType } from '../../domain/redirect-urls/redirect-urls.js';
import type { RedirectUrlEntry, RedirectUrlListing } from '../../domain/redirect-urls/redirect-urls-service.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from './layout.js';

const SOURCE_LABEL = { configuration: 'from configuration', database: 'added here or by the CLI', built_in: 'built in, until one is added' } as const;

/** The allowed redirect URLs with their types and defaults; for admins, forms to add, edit, remove and choose defaults. */
export function redirectUrlsPage(options: { listing: RedirectUrlListing; canEdit: boolean; csrf: string; editing: RedirectUrlEntry | undefined; message: string | undefined }): SafeHtml {
  const { listing, canEdit, csrf } = options;
  return html`${notice('success', options.message)}
<p class="muted">Magic links, invitations and discovery links may only send browsers to these URLs, compared exactly (scheme, host, path and query string). A send without a URL uses its type's default.</p>
<div class="table-wrap"><table><thead><tr><th scope="col">URL</th><th scope="col">Types</th><th scope="col">Source</th>${canEdit ? html`<th scope="col"><span class="muted">Action</span></th>` : ''}</tr></thead><tbody>${listing.redirectUrls.map(
    (entry) => html`<tr><td><code>${entry.url}</code></td>
<td>${entry.types.map((setting) => typeCell(entry, setting.type, setting.isDefault, canEdit, csrf))}</td>
<td>${entry.source === 'database' ? SOURCE_LABEL.database : html`<span class="badge">${SOURCE_LABEL[entry.source]}</span>`}</td>
${
  canEdit
    ? html`<td>${
        entry.source === 'database'
          ? html`<a href="/console/redirect-urls?edit=${encodeURIComponent(entry.url)}#edit">Edit</a>
<form method="post" action="/console/redirect-urls/remove" data-confirm="Remove this redirect URL? New links may no longer use it.">${csrfField(csrf)}<input type="hidden" name="url" value="${entry.url}"><button class="danger" type="submit">Remove</button></form>`
          : html`<span class="muted">read-only</span>`
      }</td>`
    : ''
}</tr>`,
  )}</tbody></table></div>
<section class="card"><h2>Defaults</h2><dl class="facts">${REDIRECT_URL_TYPES.map(
    (type) => html`<dt>${type}</dt><dd>${listing.defaults[type] === null ? html`<span class="muted">none: sends of this type must give a URL</span>` : html`<code>${listing.defaults[type] ?? ''}</code>`}</dd>`,
  )}</dl></section>
${canEdit ? editForm(options.editing, csrf) : html`<p class="muted">Only admins can change redirect URLs.</p>`}`;
}

function typeCell(entry: RedirectUrlEntry, type: RedirectUrlType, isDefault: boolean, canEdit: boolean, csrf: string): SafeHtml {
  const label = html`<span class="badge${isDefault ? ' ok' : ''}">${type}${isDefault ? ' · default' : ''}</span>`;
  if (isDefault || !canEdit || entry.source !== 'database') return html`${label} `;
  return html`${label}<form method="post" action="/console/redirect-urls/default" class="inline-action">${csrfField(csrf)}<input type="hidden" name="url" value="${entry.url}"><input type="hidden" name="type" value="${type}"><button class="secondary" type="submit" aria-label="Make ${entry.url} the default for ${type}">Make default</button></form> `;
}

/** One select per type: not allowed, allowed, or allowed and the default. Saving an existing URL replaces its types. */
function editForm(editing: RedirectUrlEntry | undefined, csrf: string): SafeHtml {
  const current = (type: RedirectUrlType): 'no' | 'allowed' | 'default' => {
    const setting = editing?.types.find((candidate) => candidate.type === type);
    return setting === undefined ? (editing === undefined && (type === 'login' || type === 'signup') ? 'allowed' : 'no') : setting.isDefault ? 'default' : 'allowed';
  };
  return html`<section class="card" id="edit"><h2>${editing === undefined ? 'Add a redirect URL' : 'Edit a redirect URL'}</h2>
<form method="post" action="/console/redirect-urls" class="inline">
  ${csrfField(csrf)}
  <div><label for="url">URL</label><input id="url" name="url" type="url" required placeholder="https://app.example.com/authenticate" value="${editing?.url ?? ''}"></div>
  ${REDIRECT_URL_TYPES.map(
    (type) => html`<div><label for="type-${type}">${type}</label><select id="type-${type}" name="type_${type}">${(['no', 'allowed', 'default'] as const).map(
      (choice) => html`<option value="${choice}" ${current(type) === choice ? 'selected' : ''}>${choice === 'no' ? 'not allowed' : choice === 'allowed' ? 'allowed' : 'allowed, default'}</option>`,
    )}</select></div>`,
  )}
  <button type="submit">${editing === undefined ? 'Add' : 'Save'}</button>
</form>
<p class="muted">https:// only (http:// for localhost), without user:password@. Saving a URL that is already listed replaces its types; making it a type's default takes the default from the URL that had it. URLs from configuration are changed in the configuration.</p></section>`;
}
