import { hash } from 'node:crypto';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isDomainError } from '../../domain/common/domain-error.js';
import { END_LINK_PATH, type ImpersonationEndLinks } from '../../domain/impersonation/end-link-service.js';
import type { ImpersonatedSession } from '../../domain/impersonation/impersonation.js';
import { maskedActionText } from '../../domain/impersonation/permission-mask.js';
import { html, SafeHtml } from '../../console/html.js';
import { statusOf } from '../../http/errors.js';
import { browserContext, single } from '../../http/browser-request.js';

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#111827;line-height:1.5}dt{color:#4b5563}dd{margin:0 0 .75rem}button{font:inherit;padding:.6rem 1.2rem;background:#b91c1c;color:#fff;border:0;border-radius:6px;cursor:pointer}';

/**
 * Nothing but this page's own style: no script at all, no framing (a hidden frame could trick a
 * click), forms only to this server. The link's token is in the URL, so no referrer leaves the page.
 */
const HEADERS = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${hash('sha256', STYLE, 'base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The impersonated member's end link (docs/impersonation.md, "Notifications and webhooks"):
 * `GET /impersonation/end?token=…` shows what would end and changes nothing, since mail scanners
 * and link previews open links; the page's form POSTs the token in its body, and only that ends it.
 * The token is the authority (192 random bits, single use, mailed only to the member), so a page
 * elsewhere cannot forge the POST without it. No project credentials: the member has none.
 */
export function registerImpersonationEndPage(app: FastifyInstance, dependencies: { endLinks: ImpersonationEndLinks }): void {
  void app.register(async (scope) => {
    // Form bodies here only: the API itself takes JSON alone.
    await scope.register(fastifyFormbody, { bodyLimit: 4 * 1024 });
    scope.setErrorHandler(async (error, request, reply) => {
      if (isDomainError(error) && error.code === 'invalid_impersonation_end_link') return send(reply, 401, invalidPage());
      // A request the edge refused (a NUL character, say): the client's mistake, answered as such.
      const statusCode = isDomainError(error) ? statusOf(error) : (error as { statusCode?: unknown }).statusCode;
      if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return send(reply, statusCode, messagePage('This request could not be read', 'Open the link from the email again.'));
      request.log.error({ err: error }, 'ending an impersonation by its link failed');
      return send(reply, 500, messagePage('Something went wrong', `Please try again. Request id: ${request.id}`));
    });

    scope.get<{ Querystring: { token?: unknown } }>(END_LINK_PATH, { config: { access: 'public' } }, async (request, reply) => {
      const token = single(request.query.token);
      const view = await dependencies.endLinks.describe(token);
      return send(reply, 200, confirmPage(view.session, token ?? ''));
    });

    scope.post<{ Body: { token?: unknown } }>(END_LINK_PATH, { config: { access: 'public' } }, async (request, reply) => {
      // The body's token only: a link opened by a scanner never carries one there.
      const body = request.body as Record<string, unknown> | undefined;
      const ended = await dependencies.endLinks.end(browserContext(request), single(body?.token));
      return send(reply, 200, endedPage(ended));
    });
  });
}

function send(reply: FastifyReply, status: number, body: SafeHtml): FastifyReply {
  return reply.code(status).headers(HEADERS).type('text/html; charset=utf-8').send(body.value);
}

function layout(title: string, content: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title><style>${new SafeHtml(STYLE)}</style></head>
<body><main><h1>${title}</h1>
${content}
</main></body>
</html>`;
}

function facts(session: ImpersonatedSession): SafeHtml {
  const who = session.kind === 'delegated' ? `${session.impersonatorEmailAddress}, an administrator of your organization` : session.impersonatorEmailAddress;
  const mask = session.permissionMask;
  return html`<dl>
<dt>Who</dt><dd>${who}</dd>
<dt>Why</dt><dd>${session.reason}</dd>
<dt>Started</dt><dd><time datetime="${session.startedAt}">${session.startedAt}</time></dd>
<dt>Ends at the latest</dt><dd><time datetime="${session.expiresAt}">${session.expiresAt}</time></dd>
${mask === null ? '' : html`<dt>Restricted to</dt><dd>${'readOnly' in mask ? 'reading only' : mask.actions.map(maskedActionText).join(', ')}</dd>`}
</dl>`;
}

function confirmPage(session: ImpersonatedSession, token: string): SafeHtml {
  return layout(
    'End this impersonation?',
    html`<p>Someone is signed in as you, for support:</p>
${facts(session)}
<form method="post" action="${END_LINK_PATH}">
<input type="hidden" name="token" value="${token}">
<button type="submit">End the impersonation now</button>
</form>
<p>Ending it signs them out at once. This link works once.</p>`,
  );
}

function endedPage(session: ImpersonatedSession): SafeHtml {
  return layout('The impersonation has ended', html`<p>${session.impersonatorEmailAddress} is signed out and can no longer act as you. It is recorded in your organization's audit trail.</p>`);
}

function invalidPage(): SafeHtml {
  return layout(
    'This link cannot be used',
    html`<p>This link to end an impersonation is unknown, expired or already used, or the impersonation is over (<code>invalid_impersonation_end_link</code>).</p>`,
  );
}

function messagePage(title: string, text: string): SafeHtml {
  return layout(title, html`<p>${text}</p>`);
}

