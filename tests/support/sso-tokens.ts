import { randomUUID } from 'node:crypto';
import { createOpaqueToken } from '../../src/crypto/opaque-token.js';
import { toTimestamp } from '../../src/platform/clock.js';
import { cryptoRandom } from '../../src/platform/random.js';
import type { ExternalConnection, OidcConnection, SamlConnection, SsoConnection } from '../../src/domain/sso/sso-connection.js';
import { SSO_REQUEST_MINUTES, type SsoProof } from '../../src/domain/sso/sso-request.js';
import type { TestServer } from './test-server.js';

/*
 * Test setup for sso.authenticate: SSO tokens as an identity provider's verified answer leaves them.
 * A token is issued by the server's own SsoFlows.finish, the code path the SAML ACS and the OIDC
 * callback end in, with a `verify` that stands in for the protocol's check of the IdP's answer and
 * simply answers the proof given. What the IdPs send and how it is checked (signatures, audience,
 * nonce…) is tested by the SAML and OIDC suites against real identity providers; suites of
 * sso.authenticate test what happens to the token and the member after that.
 */

/** What the IdP asserted, by default for `subject` with `emailAddress`, no name, no groups. */
export interface ProofInput {
  readonly subject: string;
  readonly emailAddress: string;
  readonly name?: string;
  readonly groups?: readonly string[];
  readonly attributes?: Readonly<Record<string, string | readonly string[]>>;
}

/**
 * An active SAML or OIDC connection of the organization, written to the store as the connection
 * operations write one that is fully set up (sso.*.createConnection then update), so suites of
 * sign-in do not depend on the IdP settings. `idpInitiatedAuthDisabled: false` lets a SAML connection
 * accept answers its IdP sends unasked.
 */
export async function givenActiveConnection(
  target: TestServer,
  organizationId: string,
  kind: 'saml' | 'oidc',
  options: { readonly displayName?: string; readonly idpInitiatedAuthDisabled?: boolean } = {},
): Promise<SamlConnection | OidcConnection> {
  const { store, app } = target.server;
  const at = toTimestamp(new Date());
  const base = {
    organizationId,
    status: 'active' as const,
    displayName: options.displayName ?? `Test ${kind.toUpperCase()} IdP`,
    identityProvider: 'generic',
    createdAt: at,
    updatedAt: at,
  };
  const connection: SamlConnection | OidcConnection =
    kind === 'saml'
      ? {
          ...base,
          kind,
          connectionId: app.services.ids.next('saml-connection'),
          idpEntityId: 'https://idp.example.com/saml',
          idpSsoUrl: 'https://idp.example.com/saml/sso',
          attributeMapping: { email: 'email', full_name: 'name', groups: 'groups' },
          alternativeAudienceUri: '',
          nameidFormat: '',
          alternativeAcsUrl: '',
          idpInitiatedAuthDisabled: options.idpInitiatedAuthDisabled ?? true,
          allowGatewayCallback: false,
        }
      : {
          ...base,
          kind,
          connectionId: app.services.ids.next('oidc-connection'),
          clientId: 'understudy-test-client',
          issuer: 'https://idp.example.com',
          authorizationUrl: 'https://idp.example.com/authorize',
          tokenUrl: 'https://idp.example.com/token',
          userinfoUrl: 'https://idp.example.com/userinfo',
          jwksUrl: 'https://idp.example.com/jwks',
          customScopes: '',
          attributeMapping: {},
        };
  await store.sso.insertConnection(connection, null);
  return connection;
}

/**
 * An active external connection of `organizationId` borrowing `source` (another organization's
 * connection), written to the store as sso.external.createConnection writes one.
 */
export async function givenExternalConnection(target: TestServer, organizationId: string, source: SamlConnection | OidcConnection): Promise<ExternalConnection> {
  const { store, app } = target.server;
  const at = toTimestamp(new Date());
  const connection: ExternalConnection = {
    kind: 'external',
    connectionId: app.services.ids.next('external-connection'),
    organizationId,
    status: 'active',
    displayName: `Borrowed ${source.displayName}`,
    identityProvider: source.identityProvider,
    createdAt: at,
    updatedAt: at,
    externalOrganizationId: source.organizationId,
    externalConnectionId: source.connectionId,
  };
  await store.sso.insertConnection(connection, null);
  return connection;
}

/** The connection as stored now. */
export async function storedConnection(target: TestServer, connectionId: string): Promise<SsoConnection> {
  const connection = await target.server.store.sso.findConnection(connectionId);
  if (connection === undefined) throw new Error(`no connection ${connectionId}`);
  return connection;
}

/** A minted SSO token and the redirect location it arrived on (`…?stytch_token_type=sso&token=…`). */
export interface MintedSsoToken {
  readonly token: string;
  readonly location: string;
}

/**
 * The SSO token of an IdP's accepted answer for `connectionId` (an external connection's answer
 * comes from the connection it borrows): the sign-in was started here, as `/v1/public/sso/start`
 * records it (the request is written as SsoFlows.start writes it, with `pkceCodeChallenge` when
 * given, so no IdP is needed to begin), and the IdP answered it. The token arrives on the login
 * redirect URL, as `finish` answers it.
 */
export async function mintSsoToken(
  target: TestServer,
  connectionId: string,
  proofInput: ProofInput,
  options: { readonly pkceCodeChallenge?: string } = {},
): Promise<MintedSsoToken> {
  const { store, app } = target.server;
  const signIn = await storedConnection(target, connectionId);
  const source = signIn.kind === 'external' ? await storedConnection(target, signIn.externalConnectionId) : signIn;
  if (source.kind === 'external') throw new Error('an external connection borrows a SAML or OIDC one');
  const proof: SsoProof = {
    protocol: source.kind,
    connectionId: source.connectionId,
    subject: proofInput.subject,
    emailAddress: proofInput.emailAddress,
    name: proofInput.name ?? '',
    groups: proofInput.groups ?? [],
    attributes: proofInput.attributes ?? { email: proofInput.emailAddress },
  };
  const now = new Date();
  const requestToken = createOpaqueToken(cryptoRandom);
  await store.sso.insertRequest({
    requestId: app.services.ids.next('sso-request'),
    lookupId: requestToken.lookupId,
    digest: requestToken.digest.toString('hex'),
    connectionId: source.connectionId,
    signInConnectionId: signIn.connectionId,
    organizationId: signIn.organizationId,
    kind: source.kind,
    purpose: 'sign_in',
    protocolRequestId: source.kind === 'saml' ? `_${randomUUID()}` : '',
    nonce: '',
    loginRedirectUrl: 'http://localhost:3000/authenticate',
    signupRedirectUrl: 'http://localhost:3000/authenticate',
    pkceCodeChallenge: options.pkceCodeChallenge ?? '',
    operatorId: '',
    createdAt: toTimestamp(now),
    // Real time, and far enough ahead for any manual clock a suite moved: the request's own lapse is tested with SsoFlows.
    expiresAt: toTimestamp(new Date(now.getTime() + SSO_REQUEST_MINUTES * 60_000 * 1000)),
    consumedAt: null,
    testResult: null,
  });
  const context = { requestId: `request-id-test-${randomUUID()}`, actor: { type: 'system' as const } };
  const location = await app.services.ssoFlows.finish(context, { connectionId: source.connectionId, kind: source.kind, state: requestToken.token, verify: async () => ({ proof }) });
  const url = new URL(location);
  if (url.searchParams.get('stytch_token_type') !== 'sso') throw new Error(`not an SSO token redirect: ${location}`);
  const token = url.searchParams.get('token');
  if (token === null) throw new Error(`no token in ${location}`);
  return { token, location };
}
