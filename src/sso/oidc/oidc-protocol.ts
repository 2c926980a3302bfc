import * as oidc from 'openid-client';
import type { StorePorts } from '../../domain/ports.js';
import { ssoError } from '../../domain/sso/errors.js';
import { openConnectionSecrets } from '../../domain/sso/connections-secrets.js';
import type { OidcConnection } from '../../domain/sso/sso-connection.js';
import type { ProtocolConnection, SsoProtocol, VerifiedAnswer } from '../../domain/sso/sso-flows.js';
import type { SsoRequest } from '../../domain/sso/sso-request.js';
import { ssoCallbackUrl } from '../../domain/sso/sso-urls.js';
import { systemClock, type Clock } from '../../platform/clock.js';
import type { PublicOrigin } from '../../platform/public-origin.js';
import type { IdpFetch } from '../idp-http.js';
import { proofFromClaims } from './oidc-claims.js';
import { exchangeRefusal, printable, userinfoRefusal, type ExchangePhase } from './oidc-errors.js';
import { OidcPkce } from './oidc-pkce.js';

/** Asked besides a connection's custom_scopes, as Stytch does. */
const BASE_SCOPES = ['openid', 'email', 'profile'];

/**
 * Signature algorithms accepted for ID tokens: the asymmetric ones only, whose keys the IdP
 * publishes at jwks_url (an HS256 token would be signed with the client secret, which proves nothing
 * the token endpoint's TLS does not).
 */
const ID_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/**
 * OpenID Connect sign-in (docs/sso.md, "OIDC"), with openid-client: the authorization code flow
 * with PKCE (S256, always), `state` (the SSO request's token) and `nonce`. The connection's stored
 * issuer and endpoints are used as they are (no discovery at sign-in, so an IdP's discovery
 * document cannot change them behind the admin's back); every request to the IdP goes through the
 * guarded IdpFetch. The ID token's signature (jwks_url), issuer, audience, expiry and nonce are
 * checked; userinfo, when the connection has a userinfo_url, must be about the same subject.
 */
export class OidcProtocol implements SsoProtocol {
  readonly #store: Pick<StorePorts, 'sso'>;
  readonly #origin: PublicOrigin;
  readonly #masterKey: Buffer;
  readonly #clock: Clock;
  readonly #fetch: IdpFetch;
  readonly #pkce: OidcPkce;

  constructor(dependencies: { store: Pick<StorePorts, 'sso'>; origin: PublicOrigin; masterKey: Buffer; clock: Clock; fetch: IdpFetch }) {
    this.#store = dependencies.store;
    this.#origin = dependencies.origin;
    this.#masterKey = dependencies.masterKey;
    this.#clock = dependencies.clock;
    this.#fetch = dependencies.fetch;
    this.#pkce = new OidcPkce(dependencies.masterKey);
  }

  async begin(connection: ProtocolConnection, request: { readonly state: string; readonly nonce: string }): Promise<{ location: string; protocolRequestId: string }> {
    const oidcConnection = asOidc(connection);
    const config = this.#configuration(oidcConnection, undefined, () => {});
    const scope = [...new Set([...BASE_SCOPES, ...oidcConnection.customScopes.split(/\s+/).filter((each) => each !== '')])].join(' ');
    const location = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#redirectUri(oidcConnection),
      scope,
      state: request.state,
      nonce: request.nonce,
      code_challenge: this.#pkce.challenge(request.state),
      code_challenge_method: 'S256',
    });
    return { location: location.href, protocolRequestId: '' };
  }

  /**
   * The IdP's answer at the connection's redirect URL (its query parameters), for `request` (the
   * SSO request its `state` named, found and checked by SsoFlows.finish): the code exchanged, the
   * ID token and userinfo checked, the claims turned into who signed in. Throws an SSO refusal.
   */
  async verifyCallback(connection: ProtocolConnection, request: SsoRequest | undefined, parameters: URLSearchParams): Promise<VerifiedAnswer> {
    const oidcConnection = asOidc(connection);
    // OIDC has no IdP-initiated sign-in: an answer must name the sign-in it belongs to.
    const state = parameters.get('state');
    if (request === undefined || state === null) throw ssoError('missing_oidc_state_param');
    const idpError = parameters.get('error');
    if (idpError !== null) throw ssoError('oidc_auth_code_error', `The identity provider answered with an error instead of a code (${printable(idpError)}).`);
    if (parameters.get('code') === null) throw ssoError('oidc_invalid_callback_request');

    let phase: ExchangePhase = 'callback';
    const tokenUrl = new URL(oidcConnection.tokenUrl).href;
    const config = this.#configuration(oidcConnection, await this.#clientSecret(oidcConnection), (url, status) => {
      if (new URL(url).href === tokenUrl) phase = status === 200 ? 'answered' : 'token';
    });
    const callbackUrl = new URL(this.#redirectUri(oidcConnection));
    callbackUrl.search = parameters.toString();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callbackUrl, { expectedState: state, expectedNonce: request.nonce, pkceCodeVerifier: this.#pkce.verifier(state), idTokenExpected: true });
    } catch (error) {
      throw exchangeRefusal(error, phase);
    }
    const idTokenClaims = tokens.claims();
    if (idTokenClaims === undefined) throw ssoError('id_token_invalid', 'The identity provider answered without an ID token.');
    // openid-client checks `azp` only when the token has several audiences; one naming another party is refused whatever its audience.
    if (idTokenClaims.azp !== undefined && idTokenClaims.azp !== oidcConnection.clientId) {
      throw ssoError('id_token_incorrect_audience', "The ID token's authorized party (azp) is another client than this connection's client_id.");
    }
    let claims: Record<string, unknown> = { ...idTokenClaims };
    if (oidcConnection.userinfoUrl !== '') {
      try {
        const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idTokenClaims.sub);
        // The ID token's subject stays: userinfo was checked to be about it.
        claims = { ...claims, ...userinfo, sub: idTokenClaims.sub };
      } catch (error) {
        throw userinfoRefusal(error);
      }
    }
    return { proof: proofFromClaims(oidcConnection, claims) };
  }

  #redirectUri(connection: OidcConnection): string {
    return ssoCallbackUrl(this.#origin.url, connection.connectionId);
  }

  /** The connection's client secret, sealed at rest with the master key under the connection's id. */
  async #clientSecret(connection: OidcConnection): Promise<string> {
    const sealed = await this.#store.sso.findSealedSecrets(connection.connectionId);
    const secrets = openConnectionSecrets(sealed, { masterKey: this.#masterKey, connectionId: connection.connectionId });
    if (secrets.clientSecret === undefined || secrets.clientSecret === '') throw ssoError('oidc_auth_code_error', 'The connection has no client_secret to exchange the code with: set it with sso.oidc.updateConnection.');
    return secrets.clientSecret;
  }

  /**
   * openid-client's view of the connection, from its stored settings. `observe` is told of each
   * request to the IdP (status undefined) and of its answer's status, so a refusal can say which
   * step failed.
   */
  #configuration(connection: OidcConnection, clientSecret: string | undefined, observe: (url: string, status: number | undefined) => void): oidc.Configuration {
    const server: oidc.ServerMetadata = {
      issuer: connection.issuer,
      authorization_endpoint: connection.authorizationUrl,
      token_endpoint: connection.tokenUrl,
      jwks_uri: connection.jwksUrl,
      id_token_signing_alg_values_supported: ID_TOKEN_ALGORITHMS,
      ...(connection.userinfoUrl !== '' && { userinfo_endpoint: connection.userinfoUrl }),
    };
    const metadata: Partial<oidc.ClientMetadata> = {
      // openid-client reads the system clock; this moves its "now" to the injected clock's.
      [oidc.clockSkew]: Math.round((this.#clock.now().getTime() - systemClock.now().getTime()) / 1000),
    };
    // client_secret_basic: the method RFC 6749 requires every authorization server to support.
    const config = new oidc.Configuration(server, connection.clientId, metadata, clientSecret === undefined ? oidc.None() : oidc.ClientSecretBasic(clientSecret));
    config[oidc.customFetch] = async (url, options) => {
      observe(url, undefined);
      // openid-client sends form bodies (URLSearchParams); its wider FetchBody type only differs in typed-array generics.
      const body = options.body as ConstructorParameters<typeof Response>[0];
      const response = await this.#fetch(url, { method: options.method, headers: options.headers, body, signal: options.signal ?? null });
      observe(url, response.status);
      return response;
    };
    // The ID token's signature is checked against jwks_url, not only trusted for arriving over TLS.
    oidc.enableNonRepudiationChecks(config);
    // http:// endpoints reach here only when IdpFetch allows them (localhost, with UNDERSTUDY_SSO_ALLOW_PRIVATE_ADDRESSES).
    if ([connection.tokenUrl, connection.jwksUrl, connection.userinfoUrl].some((url) => url.startsWith('http:'))) oidc.allowInsecureRequests(config);
    return config;
  }
}

function asOidc(connection: ProtocolConnection): OidcConnection {
  if (connection.kind !== 'oidc') throw new Error(`OidcProtocol was given a ${connection.kind} connection`);
  return connection;
}
