import type { Organization } from '../../domain/organizations/organization.js';
import type { ConsoleCertificate, ConsoleConnection } from '../../domain/sso/sso-console.js';
import type { AttributeMapping, SsoConnection } from '../../domain/sso/sso-connection.js';
import type { SsoRequest } from '../../domain/sso/sso-request.js';
import { samlMetadataUrl, ssoCallbackUrl } from '../../domain/sso/sso-urls.js';
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from './layout.js';
import { statusBadge } from './organization-views.js';

/** A certificate expiring within this many days is flagged, so it is replaced before sign-ins fail. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

const KIND_LABELS: Record<SsoConnection['kind'], string> = { saml: 'SAML', oidc: 'OIDC', external: 'External' };
const PURPOSE_LABELS: Record<ConsoleCertificate['purpose'], string> = {
  verification: "Verification (the IdP's: its responses must be signed with it)",
  signing: 'Signing (ours: AuthnRequests, and our metadata)',
  encryption: 'Encryption (the IdP encrypts assertions to it)',
};

export function ssoPath(organizationId: string): string {
  return `/console/organizations/${encodeURIComponent(organizationId)}/sso`;
}

function testPath(organizationId: string, connectionId: string): string {
  return `${ssoPath(organizationId)}/${encodeURIComponent(connectionId)}/test`;
}

/** An organization's SSO settings and each of its connections, with what its IdP needs and a test button. */
export function ssoConnectionsPage(options: {
  organization: Organization;
  connections: readonly ConsoleConnection[];
  now: string;
  origin: string;
  canTest: boolean;
  csrf: string;
}): SafeHtml {
  const { organization, connections } = options;
  const settings = organization.settings;
  const names = new Map(connections.map(({ connection }) => [connection.connectionId, connection.displayName || connection.connectionId]));
  const nameOf = (connectionId: string) => names.get(connectionId) ?? connectionId;
  return html`<p><a href="/console/organizations/${encodeURIComponent(organization.organizationId)}">← ${organization.organizationName}</a></p>
<section class="card" aria-labelledby="sso-settings"><h2 id="sso-settings">Organization settings</h2>
<dl class="facts">
  <dt>Default connection</dt><dd>${settings.ssoDefaultConnectionId === null ? '—' : nameOf(settings.ssoDefaultConnectionId)}</dd>
  <dt>Just-in-time provisioning</dt><dd><code>${settings.ssoJitProvisioning}</code>${
    settings.ssoJitProvisioning === 'RESTRICTED' ? html` (only through ${settings.ssoJitProvisioningAllowedConnections.map(nameOf).join(', ') || 'no connection'})` : ''
  }</dd>
</dl>
<p class="muted">Connections are created and changed by the organization's admins through your application (the <code>sso</code> API of the Stytch SDK); the console shows them and tests them.</p>
</section>
${
  connections.length === 0
    ? html`<p class="empty">This organization has no SSO connections. Create one with client.sso.saml.createConnection or client.sso.oidc.createConnection.</p>`
    : connections.map((listed) => connectionCard(listed, { ...options, isDefault: settings.ssoDefaultConnectionId === listed.connection.connectionId }))
}`;
}

function connectionCard(listed: ConsoleConnection, options: { organization: Organization; now: string; origin: string; canTest: boolean; csrf: string; isDefault: boolean }): SafeHtml {
  const { connection } = listed;
  const headingId = `connection-${connection.connectionId}`;
  return html`<section class="card" aria-labelledby="${headingId}">
<h2 id="${headingId}">${connection.displayName || connection.connectionId} <span class="badge">${KIND_LABELS[connection.kind]}</span> ${statusBadge(connection.status)}${options.isDefault ? html` <span class="badge">default</span>` : ''}</h2>
<dl class="facts">
  <dt>Connection id</dt><dd><code>${connection.connectionId}</code></dd>
  <dt>Identity provider</dt><dd>${connection.identityProvider}</dd>
  <dt>Status</dt><dd>${connection.status}${connection.status === 'pending' ? html` <span class="muted">(sign-in needs ${missingOf(listed).join(', ')})</span>` : ''}</dd>
  ${kindFacts(listed, options.origin)}
  ${listed.borrowedBy.length === 0 ? '' : html`<dt>Borrowed by</dt><dd>${listed.borrowedBy.map((borrower, index) => html`${index === 0 ? '' : ', '}<a href="${ssoPath(borrower.organizationId)}"><code>${borrower.organizationId}</code></a> (<code>${borrower.connectionId}</code>)`)}</dd>`}
  <dt>Created</dt><dd>${connection.createdAt}</dd>
  <dt>Updated</dt><dd>${connection.updatedAt}</dd>
</dl>
${connection.kind === 'saml' ? certificatesTable(listed.certificates, options.now) : ''}
${testForm(listed, options)}
</section>`;
}

function kindFacts(listed: ConsoleConnection, origin: string): SafeHtml {
  const { connection } = listed;
  const callback = ssoCallbackUrl(origin, connection.connectionId);
  switch (connection.kind) {
    case 'saml':
      return html`<dt>ACS URL</dt><dd><code>${callback}</code> <span class="muted">(give it to the IdP; also the audience URI / SP entity ID)</span></dd>
  <dt>SP metadata</dt><dd><code>${samlMetadataUrl(origin, connection.connectionId)}</code></dd>
  <dt>IdP entity ID</dt><dd>${connection.idpEntityId === '' ? '—' : html`<code>${connection.idpEntityId}</code>`}</dd>
  <dt>IdP sign-in URL</dt><dd>${connection.idpSsoUrl === '' ? '—' : html`<code>${connection.idpSsoUrl}</code>`}</dd>
  <dt>NameID format</dt><dd>${connection.nameidFormat === '' ? "the IdP's choice" : html`<code>${connection.nameidFormat}</code>`}</dd>
  <dt>IdP-initiated sign-in</dt><dd>${connection.idpInitiatedAuthDisabled ? 'refused' : 'accepted'}</dd>
  <dt>Attribute mapping</dt><dd>${mappingOf(connection.attributeMapping)}</dd>`;
    case 'oidc':
      return html`<dt>Redirect URL</dt><dd><code>${callback}</code> <span class="muted">(give it to the IdP)</span></dd>
  <dt>Issuer</dt><dd>${connection.issuer === '' ? '—' : html`<code>${connection.issuer}</code>`}</dd>
  <dt>Client id</dt><dd>${connection.clientId === '' ? '—' : html`<code>${connection.clientId}</code>`}</dd>
  <dt>Endpoints</dt><dd>${[
    ['authorization', connection.authorizationUrl],
    ['token', connection.tokenUrl],
    ['userinfo', connection.userinfoUrl],
    ['JWKS', connection.jwksUrl],
  ].map(([name, url], index) => html`${index === 0 ? '' : html`<br>`}${name}: ${url === '' ? '—' : html`<code>${url}</code>`}`)}</dd>
  <dt>Extra scopes</dt><dd>${connection.customScopes === '' ? '—' : html`<code>${connection.customScopes}</code>`}</dd>
  <dt>Attribute mapping</dt><dd>${mappingOf(connection.attributeMapping)}</dd>`;
    case 'external': {
      const source = listed.source;
      return html`<dt>Source connection</dt><dd>${
        source === undefined
          ? html`<code>${connection.externalConnectionId}</code> of <code>${connection.externalOrganizationId}</code> <span class="badge warn">gone</span>`
          : html`<a href="${ssoPath(source.organizationId)}">${source.displayName || source.connectionId}</a> (<code>${source.connectionId}</code>, ${KIND_LABELS[source.kind]}, ${source.identityProvider}) of <code>${source.organizationId}</code> ${statusBadge(source.status)}`
      }</dd>
  <dt>Callback URL</dt><dd><span class="muted">the source connection's:</span> <code>${ssoCallbackUrl(origin, connection.externalConnectionId)}</code></dd>`;
    }
  }
}

function mappingOf(mapping: AttributeMapping): SafeHtml | string {
  const entries = Object.entries(mapping);
  if (entries.length === 0) return 'the defaults';
  return html`${entries.map(([key, attribute], index) => html`${index === 0 ? '' : ', '}<code>${key}</code> ← <code>${attribute}</code>`)}`;
}

/** What a pending connection still lacks, as far as the console can see (it never reads secrets). */
function missingOf(listed: ConsoleConnection): string[] {
  const { connection } = listed;
  switch (connection.kind) {
    case 'saml': {
      const missing = [
        ...(connection.idpEntityId === '' ? ['the IdP entity ID'] : []),
        ...(connection.idpSsoUrl === '' ? ['the IdP sign-in URL'] : []),
        ...(listed.certificates.some((certificate) => certificate.purpose === 'verification') ? [] : ['a verification certificate']),
      ];
      return missing.length === 0 ? ['its setup to be finished'] : missing;
    }
    case 'oidc': {
      const missing = [
        ...(connection.clientId === '' ? ['the client id'] : []),
        ...(connection.issuer === '' ? ['the issuer'] : []),
        ...(connection.authorizationUrl === '' || connection.tokenUrl === '' || connection.jwksUrl === '' ? ['the endpoints'] : []),
      ];
      return missing.length === 0 ? ['the client secret'] : missing;
    }
    case 'external':
      return ['an active source connection'];
  }
}

function certificatesTable(certificates: readonly ConsoleCertificate[], now: string): SafeHtml {
  if (certificates.length === 0) return html`<p class="muted">No certificates.</p>`;
  return html`<div class="table-wrap"><table><thead><tr><th scope="col">Certificate</th><th scope="col">Purpose</th><th scope="col">Issuer</th><th scope="col">Expires</th><th scope="col">Added</th></tr></thead><tbody>${certificates.map(
    (certificate) => html`<tr>
<td><code>${certificate.certificateId}</code></td>
<td>${PURPOSE_LABELS[certificate.purpose]}</td>
<td>${certificate.issuer === '' ? '—' : certificate.issuer}</td>
<td>${certificate.expiresAt === null ? '—' : html`${certificate.expiresAt} ${expiryBadge(certificate.expiresAt, now)}`}</td>
<td>${certificate.createdAt}</td>
</tr>`,
  )}</tbody></table></div>`;
}

/** Expired, or expiring within EXPIRY_WARNING_DAYS of `now`: flagged; otherwise nothing. */
export function expiryBadge(expiresAt: string, now: string): SafeHtml {
  const left = Date.parse(expiresAt) - Date.parse(now);
  if (left <= 0) return html`<span class="badge warn">expired</span>`;
  if (left <= EXPIRY_WARNING_DAYS * DAY_MS) {
    const days = Math.floor(left / DAY_MS);
    return html`<span class="badge warn">expires ${days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`}</span>`;
  }
  return html``;
}

function testForm(listed: ConsoleConnection, options: { organization: Organization; canTest: boolean; csrf: string }): SafeHtml {
  const { connection } = listed;
  if (!options.canTest) return html`<p class="muted">Your role can view connections but not test them.</p>`;
  const active = connection.status === 'active' && (connection.kind !== 'external' || listed.source?.status === 'active');
  if (!active) return html`<p class="muted">A test needs an active connection.</p>`;
  return html`<form method="post" action="${testPath(options.organization.organizationId, connection.connectionId)}" class="inline">
  ${csrfField(options.csrf)}
  <button type="submit" class="secondary">Test this connection</button>
  <span class="muted">Sign in at the IdP with any of its accounts: the result shows what the IdP asserted. No member, session or token is created.</span>
</form>`;
}

/** After "Test this connection": the browser goes on to the IdP (by script, or the link). */
export function testStartedPage(options: { location: string }): SafeHtml {
  return html`<p class="notice success" role="status">Test started. Opening the identity provider…</p>
<p><a class="button" href="${options.location}" data-navigate rel="noreferrer">Continue to the identity provider</a></p>
<p class="muted">The test waits 10 minutes for the identity provider's answer, then lapses.</p>`;
}

/** What a test's IdP answer asserted, or why it was refused, or that there is no answer yet. */
export function testResultPage(options: { organization: Organization; connection: SsoConnection; request: SsoRequest; now: string; canTest: boolean; csrf: string }): SafeHtml {
  const { organization, connection, request } = options;
  const result = request.testResult;
  const back = html`<p><a href="${ssoPath(organization.organizationId)}">← SSO connections of ${organization.organizationName}</a></p>`;
  const facts = html`<dl class="facts">
  <dt>Connection</dt><dd>${connection.displayName || connection.connectionId} (<code>${connection.connectionId}</code>${request.connectionId === connection.connectionId ? '' : html`, through <code>${request.connectionId}</code>`})</dd>
  <dt>Protocol</dt><dd>${KIND_LABELS[request.kind]}</dd>
  <dt>Started</dt><dd>${request.createdAt}</dd>
  <dt>Test request</dt><dd><code>${request.requestId}</code></dd>
</dl>`;
  const again = options.canTest
    ? html`<form method="post" action="${testPath(organization.organizationId, connection.connectionId)}" class="inline">${csrfField(options.csrf)}<button type="submit" class="secondary">Test again</button></form>`
    : '';
  const noSideEffects = html`<p class="muted">A test creates no member, session or token.</p>`;
  if (result === null) {
    const waiting = request.consumedAt === null && request.expiresAt > options.now;
    return html`${back}${notice(
      'error',
      waiting ? `No answer from the identity provider yet. Finish signing in there; it sends the browser back here. The test lapses at ${request.expiresAt}.` : 'The identity provider never answered this test, and it has lapsed.',
    )}${facts}${again}`;
  }
  if (result.outcome === 'refused') {
    return html`${back}<p class="notice error" role="alert">Refused: the identity provider's answer would not sign anyone in.</p>
${facts}
<section class="card" aria-labelledby="refusal"><h2 id="refusal">Why</h2>
<dl class="facts"><dt>error_type</dt><dd><code>${result.errorType}</code></dd><dt>Message</dt><dd>${result.message}</dd></dl>
</section>${noSideEffects}${again}`;
  }
  const proof = result.proof;
  const attributes = Object.entries(proof.attributes);
  return html`${back}<p class="notice success" role="status">Accepted: the identity provider's answer verified.</p>
${facts}
<section class="card" aria-labelledby="asserted"><h2 id="asserted">What the identity provider asserted</h2>
<dl class="facts">
  <dt>Subject</dt><dd><code>${proof.subject}</code></dd>
  <dt>Email address</dt><dd>${proof.emailAddress === '' ? html`<span class="badge warn">none</span> <span class="muted">(a sign-in would be refused)</span>` : proof.emailAddress}</dd>
  <dt>Name</dt><dd>${proof.name === '' ? '—' : proof.name}</dd>
  <dt>Groups</dt><dd>${proof.groups.length === 0 ? '—' : proof.groups.map((group, index) => html`${index === 0 ? '' : ', '}<code>${group}</code>`)}</dd>
</dl>
<h3>Attributes</h3>
${
  attributes.length === 0
    ? html`<p class="muted">None.</p>`
    : html`<div class="table-wrap"><table><thead><tr><th scope="col">Attribute</th><th scope="col">Value</th></tr></thead><tbody>${attributes.map(
        ([name, value]) => html`<tr><td><code>${name}</code></td><td>${typeof value === 'string' ? value : value.map((each, index) => html`${index === 0 ? '' : html`<br>`}${each}`)}</td></tr>`,
      )}</tbody></table></div>`
}
</section>${noSideEffects}${again}`;
}

/**
 * The IdP's answer comes back through a cross-site redirect chain, on which browsers do not send the
 * console's SameSite=Strict cookie: this page, which shows nothing, sends the browser on to the same
 * address from the console itself, and then the cookie goes along.
 */
export function sameSiteBouncePage(path: string): SafeHtml {
  return html`<p class="notice success" role="status">The identity provider answered.</p>
<p><a class="button" href="${path}" data-navigate>Show the test result</a></p>`;
}
