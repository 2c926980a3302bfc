import type { ConsoleIdentity } from '../../domain/operators/console-auth-service.js';
import { canManageOperators } from '../../domain/operators/operator.js';
import { html, type SafeHtml } from '../html.js';

const SECTIONS = [
  { path: '/console/organizations', label: 'Organizations' },
  { path: '/console/impersonations', label: 'Active impersonations' },
  { path: '/console/audit', label: 'Audit trail' },
  { path: '/console/audit-chain', label: 'Audit chain' },
  { path: '/console/redirect-urls', label: 'Redirect URLs' },
  { path: '/console/webhooks', label: 'Webhooks' },
  { path: '/console/rbac', label: 'RBAC' },
] as const;

/** Every page: a skip link, the navigation for the signed-in operator, and the content. */
export function page(options: { title: string; identity?: ConsoleIdentity | undefined; csrf?: string | undefined; current?: string; body: SafeHtml }): SafeHtml {
  const identity = options.identity?.isFullySignedIn === true ? options.identity : undefined;
  const sections = identity && canManageOperators(identity.operator.role) ? [...SECTIONS, { path: '/console/outbox', label: 'Outbox' }, { path: '/console/operators', label: 'Operators' }] : SECTIONS;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Understudy console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a href="#main" class="skip">Skip to content</a>
<header class="top">
  <strong>Understudy console</strong>
  ${
    identity
      ? html`<nav aria-label="Sections">${sections.map(
          (section) => html`<a href="${section.path}" ${options.current === section.path ? html`aria-current="page"` : ''}>${section.label}</a>`,
        )}</nav>
  <span>${identity.operator.name} <span class="badge">${identity.operator.role}</span> <a href="/console/account" ${options.current === '/console/account' ? html`aria-current="page"` : ''}>Your account</a>
  <form method="post" action="/console/logout"><input type="hidden" name="_csrf" value="${options.csrf ?? ''}"><button class="secondary" type="submit">Sign out</button></form></span>`
      : ''
  }
</header>
<main id="main">
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>`;
}

export function notice(kind: 'error' | 'success', text: string | undefined): SafeHtml {
  return text === undefined || text === '' ? html`` : html`<p class="notice ${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${text}</p>`;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}
