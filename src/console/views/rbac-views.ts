import type { AuditEvent } from '../../domain/audit/audit-event.js';
import { isDefaultRole, isStytchResource, type PolicyPermission, type PolicySource, type PolicyVersion } from '../../domain/rbac/policy.js';
import type { PolicyProblem } from '../../domain/rbac/policy-problems.js';
import { html, type SafeHtml } from '../html.js';
import { actorLabel } from './actor-label.js';
import { csrfField, notice } from './layout.js';

const SOURCE_LABELS: Record<PolicySource, string> = { default: 'built-in default', file: 'policy file', console: 'console', cli: 'command line' };

/** A refused edit: what the admin typed (shown again as typed), why it was refused, and the version the next try is based on. */
export interface RbacDraft {
  readonly text: string;
  readonly basedOn: number;
  readonly error: string;
  readonly problems: readonly PolicyProblem[];
}

export interface RbacPageOptions {
  readonly current: PolicyVersion;
  /** Stored versions, newest first. */
  readonly history: readonly PolicyVersion[];
  /** The `rbac.policy_updated` audit event of each stored version, by version number. */
  readonly changes: ReadonlyMap<number, AuditEvent>;
  /** The policy as the textarea first holds it: its wire form, pretty-printed. */
  readonly document: string;
  readonly canEdit: boolean;
  readonly csrf: string;
  /** The policy file the server applies when it starts, if any. */
  readonly policyFile: string | undefined;
  readonly message?: string | undefined;
  readonly draft?: RbacDraft | undefined;
}

/** The project's RBAC policy in force, its history with each change's diff and, for admins, the form to replace it. */
export function rbacPage(options: RbacPageOptions): SafeHtml {
  const { current, draft } = options;
  const { policy } = current;
  return html`${notice('success', options.message)}
${draft === undefined ? '' : problemsNotice(draft)}
<section class="card" aria-labelledby="in-force"><h2 id="in-force">Policy in force</h2>
<dl class="facts">
  <dt>Version</dt><dd id="policy-version">${current.version}</dd>
  <dt>Source</dt><dd>${SOURCE_LABELS[current.source]}</dd>
  <dt>Since</dt><dd>${current.version === 0 ? 'always (nothing has been applied yet)' : current.createdAt}</dd>
</dl>
<p class="muted">Every member session is judged against these roles, together with its organization's own custom roles. The SDK's local authorization checks read the same policy from <code>rbac.policy</code>.</p>
${
  options.policyFile === undefined
    ? ''
    : html`<p class="notice error" role="note">This server was started with the policy file <code>${options.policyFile}</code>. At its next start it applies that file, which replaces any change made here. Make lasting changes in the file.</p>`
}
</section>
${options.canEdit ? editForm(options) : readOnly(options.document)}
<section aria-labelledby="resources"><h2 id="resources">Resources</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Resource</th><th scope="col">Actions</th><th scope="col">Description</th><th scope="col">Defined by</th></tr></thead><tbody>${policy.resources.map(
    (resource) => html`<tr><td><code>${resource.resourceId}</code></td><td>${resource.actions.map((action) => html`<code>${action}</code> `)}</td><td>${resource.description}</td><td>${isStytchResource(resource.resourceId) ? html`<span class="badge">Stytch</span>` : 'this project'}</td></tr>`,
  )}</tbody></table></div></section>
<section aria-labelledby="roles"><h2 id="roles">Roles</h2>
<div class="table-wrap"><table><thead><tr><th scope="col">Role</th><th scope="col">Permissions</th><th scope="col">Description</th></tr></thead><tbody>${policy.roles.map(
    (role) => html`<tr><td><code>${role.roleId}</code>${isDefaultRole(role.roleId) ? html` <span class="badge">Stytch default</span>` : ''}</td><td>${permissionsList(role.permissions)}</td><td>${role.description}</td></tr>`,
  )}</tbody></table></div></section>
<section aria-labelledby="scopes"><h2 id="scopes">Scopes</h2>
${
  policy.scopes.length === 0
    ? html`<p class="empty">No scopes.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Scope</th><th scope="col">Permissions</th><th scope="col">Description</th></tr></thead><tbody>${policy.scopes.map(
        (scope) => html`<tr><td><code>${scope.scope}</code></td><td>${permissionsList(scope.permissions)}</td><td>${scope.description}</td></tr>`,
      )}</tbody></table></div>`
}</section>
${historySection(options.history, options.changes)}`;
}

/** One line per resource: `documents: read, write`. */
export function permissionsList(permissions: readonly PolicyPermission[]): SafeHtml {
  if (permissions.length === 0) return html`<span class="muted">none</span>`;
  return html`${permissions.map((permission, index) => html`${index === 0 ? '' : html`<br>`}<code>${permission.resourceId}</code>: ${permission.actions.join(', ')}`)}`;
}

function problemsNotice(draft: RbacDraft): SafeHtml {
  return html`<div class="notice error" role="alert"><p>${draft.error}</p>${
    draft.problems.length === 0
      ? ''
      : html`<ul id="policy-problems">${draft.problems.map((problem) => html`<li>${problem.path === '' ? '' : html`<code>${problem.path}</code>: `}${problem.message}</li>`)}</ul>`
  }</div>`;
}

// The HTML parser drops one newline right after <textarea>: the one written there keeps a typed leading newline.
function editForm(options: RbacPageOptions): SafeHtml {
  const { draft } = options;
  return html`<section class="card" aria-labelledby="edit"><h2 id="edit">Edit the policy</h2>
<p class="muted">The whole policy as <code>rbac.policy</code> answers it: <code>resources</code>, <code>roles</code> and <code>scopes</code>, with <code>resource_id</code>, <code>role_id</code>, <code>description</code>, <code>actions</code> and <code>permissions</code> fields. Stytch's own resources may be listed as they are or left out; custom resource ids may not start with <code>stytch</code>. A role that is still assigned, and a resource an organization's custom role uses, cannot be removed. Applying writes a new version and an audit event with what changed.</p>
<form method="post" action="/console/rbac" class="stack">
  ${csrfField(options.csrf)}
  <input type="hidden" name="based_on" value="${draft?.basedOn ?? options.current.version}">
  <div><label for="policy">Policy (JSON)</label><textarea id="policy" name="policy" rows="24" spellcheck="false" autocomplete="off" required>
${draft?.text ?? options.document}</textarea></div>
  <button type="submit">Apply policy</button>
</form></section>`;
}

function readOnly(document: string): SafeHtml {
  return html`<section class="card" aria-labelledby="json"><h2 id="json">As JSON</h2>
<p class="muted">Only admins can change the RBAC policy.</p>
<details><summary>Show the policy as <code>rbac.policy</code> answers it</summary><pre><code>${document}</code></pre></details></section>`;
}

function historySection(history: readonly PolicyVersion[], changes: ReadonlyMap<number, AuditEvent>): SafeHtml {
  return html`<section aria-labelledby="history"><h2 id="history">History</h2>
<p class="muted">${
    history.length === 0
      ? 'Nothing has been applied yet: the built-in default is in force.'
      : history.length === 1
        ? 'The one version applied so far, with what it changed.'
        : `The newest ${history.length} versions applied, newest first, with what each changed.`
  } Each change is also recorded as the audit event <code>rbac.policy_updated</code>.</p>
<div class="table-wrap"><table><thead><tr><th scope="col">Version</th><th scope="col">When</th><th scope="col">Source</th><th scope="col">By</th><th scope="col">Changes</th></tr></thead><tbody>${history.map((version) => {
    const event = changes.get(version.version);
    return html`<tr id="version-${version.version}"><td>${version.version}</td><td>${version.createdAt}</td><td>${SOURCE_LABELS[version.source]}</td><td>${event === undefined ? '—' : actorLabel(event.actor)}</td><td>${event === undefined ? html`<span class="muted">No audit event found for this version.</span>` : changeList(event.details.changes)}</td></tr>`;
  })}
<tr id="version-0"><td>0</td><td>—</td><td>${SOURCE_LABELS.default}</td><td>—</td><td>Stytch's resources and the roles <code>stytch_member</code> and <code>stytch_admin</code>.</td></tr></tbody></table></div></section>`;
}

const KINDS = [
  { kind: 'resources', label: 'Resources', key: 'resource_id' },
  { kind: 'roles', label: 'Roles', key: 'role_id' },
  { kind: 'scopes', label: 'Scopes', key: 'scope' },
] as const;

/** An audit event's `changes` (`{resources, roles, scopes}`, each `{added, removed, changed}`) as a short list by id. */
export function changeList(changes: unknown): SafeHtml {
  const lines = KINDS.flatMap(({ kind, label, key }) => {
    const items = record(record(changes)[kind]);
    const added = list(items.added).map((item) => idOf(item, key));
    const removed = list(items.removed).map((item) => idOf(item, key));
    const changed = list(items.changed).map((entry) => {
      const { before, after } = record(entry);
      return { id: idOf(after ?? before, key), how: howChanged(before, after) };
    });
    if (added.length + removed.length + changed.length === 0) return [];
    const parts = [
      added.length === 0 ? '' : html`added ${ids(added)}`,
      removed.length === 0 ? '' : html`removed ${ids(removed)}`,
      changed.length === 0 ? '' : html`changed ${changed.map((item, index) => html`${index === 0 ? '' : ', '}<code>${item.id}</code>${item.how === '' ? '' : ` (${item.how})`}`)}`,
    ].filter((part) => part !== '');
    return [html`<li><strong>${label}</strong>: ${parts.map((part, index) => html`${index === 0 ? '' : '; '}${part}`)}</li>`];
  });
  return lines.length === 0 ? html`<span class="muted">no change</span>` : html`<ul>${lines}</ul>`;
}

function ids(values: readonly string[]): SafeHtml {
  return html`${values.map((value, index) => html`${index === 0 ? '' : ', '}<code>${value}</code>`)}`;
}

/** What differs between two versions of one resource, role or scope (wire form): description, actions, permissions. */
function howChanged(before: unknown, after: unknown): string {
  const from = record(before);
  const to = record(after);
  const parts: string[] = [];
  if (from.description !== to.description) parts.push('description');
  if (from.actions !== undefined || to.actions !== undefined) {
    const actions = setChange(strings(from.actions), strings(to.actions));
    if (actions !== '') parts.push(`actions ${actions}`);
  }
  if (from.permissions !== undefined || to.permissions !== undefined) {
    const old = permissionsByResource(from.permissions);
    const now = permissionsByResource(to.permissions);
    for (const resourceId of new Set([...old.keys(), ...now.keys()])) {
      const change = setChange(old.get(resourceId) ?? [], now.get(resourceId) ?? []);
      if (change !== '') parts.push(`${resourceId} ${change}`);
    }
  }
  return parts.join('; ');
}

/** `+write −read`: what was added and removed. */
function setChange(before: readonly string[], after: readonly string[]): string {
  return [...after.filter((item) => !before.includes(item)).map((item) => `+${item}`), ...before.filter((item) => !after.includes(item)).map((item) => `−${item}`)].join(' ');
}

function permissionsByResource(permissions: unknown): Map<string, string[]> {
  const byResource = new Map<string, string[]>();
  for (const permission of list(permissions)) {
    const { resource_id: resourceId, actions } = record(permission);
    if (typeof resourceId === 'string') byResource.set(resourceId, [...(byResource.get(resourceId) ?? []), ...strings(actions)]);
  }
  return byResource;
}

// Audit details are JSON read back from the database: read them without trusting their shape.
function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): string[] {
  return list(value).filter((item): item is string => typeof item === 'string');
}

function idOf(item: unknown, key: string): string {
  const id = record(item)[key];
  return typeof id === 'string' ? id : '?';
}
