import { createOpaqueToken, findByOpaqueToken } from '../../crypto/opaque-token.js';
import type { Clock } from '../../platform/clock.js';
import { toTimestamp } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Random } from '../../platform/random.js';
import type { AuditRecorder } from '../audit/audit-recorder.js';
import { isDomainError, type DomainError } from '../common/domain-error.js';
import type { OperationContext } from '../common/operation-context.js';
import type { Transactional } from '../common/transactional.js';
import { checkCodeChallenge } from '../email-sign-in/pkce.js';
import type { StorePorts } from '../ports.js';
import { publicTokenOf } from '../projects/public-token.js';
import type { RedirectUrlResolver } from '../redirect-urls/redirect-urls.js';
import { ssoError } from './errors.js';
import { checkedProof } from './sso-proof-rules.js';
import { findSsoMember } from './sso-members.js';
import type { OidcConnection, SamlConnection, SsoConnection } from './sso-connection.js';
import { SSO_REQUEST_MINUTES, type SsoProof, type SsoRequest } from './sso-request.js';
import { SSO_TOKEN_MINUTES } from './sso-token.js';

/** A connection that speaks to an identity provider itself. */
export type ProtocolConnection = SamlConnection | OidcConnection;

/** How one protocol (SAML, OIDC) sends a browser to its identity provider. */
export interface SsoProtocol {
  /**
   * The URL of the IdP's sign-in for this request. `state` is the request's token, which must come
   * back with the answer (SAML RelayState, OIDC state); `nonce` is OIDC's. `protocolRequestId` is
   * what the answer must name (the AuthnRequest ID; '' for OIDC).
   */
  begin(connection: ProtocolConnection, request: { readonly state: string; readonly nonce: string }): Promise<{ location: string; protocolRequestId: string }>;
}

/** What a protocol verified of an IdP's answer. */
export interface VerifiedAnswer {
  readonly proof: SsoProof;
  /** A SAML assertion's ID and when it stops being acceptable: remembered, so the same assertion is refused next time. */
  readonly assertion?: { readonly id: string; readonly expiresAt: string };
}

/** Where a console test's outcome is shown (src/console). */
export function ssoTestResultPath(organizationId: string, connectionId: string, requestId: string): string {
  return `/console/organizations/${encodeURIComponent(organizationId)}/sso/${encodeURIComponent(connectionId)}/tests/${encodeURIComponent(requestId)}`;
}

type Ports = Pick<StorePorts, 'sso' | 'members' | 'audit'>;

/**
 * The browser's part of an SSO sign-in, shared by SAML and OIDC: `start` checks the request
 * (public token, an active connection, redirect URLs allowed for login and signup, the PKCE
 * challenge), records it, and answers where the browser goes; `finish` takes the IdP's answer,
 * which the protocol verifies, spends the request once and issues the single-use SSO token on the
 * redirect URL (`login` when the member exists, `signup` otherwise). Every refused answer is
 * recorded as `sso.idp_response_refused` (in a transaction of its own; nothing else is written).
 */
export class SsoFlows {
  readonly #store: Transactional<Ports>;
  readonly #redirectUrls: RedirectUrlResolver;
  readonly #protocols: Readonly<Record<ProtocolConnection['kind'], SsoProtocol>>;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #ids: IdGenerator;
  readonly #audit: AuditRecorder;
  readonly #publicToken: string;
  readonly #requestLimit: (context: OperationContext) => Promise<void>;

  constructor(dependencies: {
    store: Transactional<Ports>;
    redirectUrls: RedirectUrlResolver;
    protocols: Readonly<Record<ProtocolConnection['kind'], SsoProtocol>>;
    clock: Clock;
    random: Random;
    ids: IdGenerator;
    audit: AuditRecorder;
    projectId: string;
    /** Counts a well-formed start or an answer at a connection's callback against the client's limit (UNDERSTUDY_RATE_LIMIT_SSO_REQUESTS_PER_CLIENT_PER_MINUTE); throws past it. */
    requestLimit?: (context: OperationContext) => Promise<void>;
  }) {
    this.#requestLimit = dependencies.requestLimit ?? (async () => undefined);
    this.#store = dependencies.store;
    this.#redirectUrls = dependencies.redirectUrls;
    this.#protocols = dependencies.protocols;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
    this.#ids = dependencies.ids;
    this.#audit = dependencies.audit;
    this.#publicToken = publicTokenOf(dependencies.projectId);
  }

  /** Deletes lapsed requests, tokens and remembered assertion ids (the server's periodic sweep); how many rows went. */
  async deleteExpired(): Promise<number> {
    return this.#store.sso.sweepExpired(toTimestamp(this.#clock.now()));
  }

  /** `GET /v1/public/sso/start`: where the browser goes to sign in. */
  async start(
    context: OperationContext,
    input: {
    connectionId: string | undefined;
    publicToken: string | undefined;
    loginRedirectUrl: string | undefined;
    signupRedirectUrl: string | undefined;
    pkceCodeChallenge: string | undefined;
    },
  ): Promise<string> {
    if (input.publicToken === undefined || input.publicToken === '') throw ssoError('public_token_required');
    // Not a secret (it is in every page that starts a sign-in): a plain comparison will do.
    if (input.publicToken !== this.#publicToken) throw ssoError('public_token_not_found');
    if (input.connectionId === undefined || input.connectionId === '') throw ssoError('missing_sso_connection_locator');
    const pkceCodeChallenge = checkCodeChallenge(input.pkceCodeChallenge) ?? '';
    const { signIn, source } = await this.#activeConnection(input.connectionId);
    const loginRedirectUrl = await this.#redirectUrls.resolve('login', input.loginRedirectUrl);
    const signupRedirectUrl = await this.#redirectUrls.resolve('signup', input.signupRedirectUrl);
    // Counted once the request is well formed and before anything is written: a start needs no secret.
    await this.#requestLimit(context);
    return this.#begin(signIn, source, { purpose: 'sign_in', loginRedirectUrl, signupRedirectUrl, pkceCodeChallenge, operatorId: '' });
  }

  /** The console's "test this connection": the same sign-in at the IdP, ending on a page that shows what the IdP asserted. */
  async startTest(organizationId: string, connectionId: string, operatorId: string): Promise<string> {
    const { signIn, source } = await this.#activeConnection(connectionId);
    if (signIn.organizationId !== organizationId) throw ssoError('sso_connection_not_found');
    return this.#begin(signIn, source, { purpose: 'test', loginRedirectUrl: '', signupRedirectUrl: '', pkceCodeChallenge: '', operatorId });
  }

  /**
   * The IdP answered at the callback of `connectionId` (the SAML ACS, the OIDC redirect URL) with
   * the request's `state` token; `verify` is the protocol's check of the answer, which throws an
   * SSO refusal. Returns where the browser goes next. `state` undefined: an IdP-initiated SAML
   * answer, which `verify` accepted (the connection allows them): it signs in by the default
   * redirect URLs, without PKCE. A console test's answer, accepted or refused, ends on its result
   * page (ssoTestResultPath).
   */
  async finish(
    context: OperationContext,
    input: {
      connectionId: string;
      kind: ProtocolConnection['kind'];
      state: string | undefined;
      verify: (connection: ProtocolConnection, request: SsoRequest | undefined) => Promise<VerifiedAnswer>;
    },
  ): Promise<string> {
    const connection = await this.#store.sso.findConnection(input.connectionId);
    const scope = { connectionId: input.connectionId, organizationId: connection?.organizationId ?? null };
    try {
      if (connection === undefined || connection.kind !== input.kind) throw ssoError('sso_connection_not_found');
      // Counted before the answer is checked: a refused answer is recorded, and must not be free to repeat.
      await this.#requestLimit(context);
      const request = input.state === undefined ? undefined : await this.#findRequest(input.state, input.kind);
      if (request !== undefined && request.connectionId !== connection.connectionId) throw ssoError(input.kind === 'saml' ? 'unsolicited_saml_response' : 'unsolicited_oidc_response');
      let verified: VerifiedAnswer;
      try {
        const answer = await input.verify(connection, request);
        verified = { ...answer, proof: checkedProof(answer.proof) };
      } catch (error) {
        // A console test shows a refusal on its result page instead (audited as the test's outcome).
        if (request?.purpose === 'test' && isDomainError(error)) {
          await this.#recordTestRefusal(context, request, error);
          return ssoTestResultPath(request.organizationId, request.signInConnectionId, request.requestId);
        }
        throw error;
      }
      // An unasked (IdP-initiated) answer signs in by the default redirect URLs, read before the
      // transaction: they are read through the pool, which on SQLite waits for the transaction.
      const answered = request ?? { login: await this.#redirectUrls.resolve('login', undefined), signup: await this.#redirectUrls.resolve('signup', undefined) };
      return await this.#store.transaction((tx) => this.#accept(tx, context, connection, answered, verified));
    } catch (error) {
      // Refusals about one of the project's connections are audited; an unknown connection id has
      // nobody to alert, and recording every such request would let anyone fill the audit log.
      // A client past its rate limit is not recorded either: the limit is what keeps the log bounded.
      if (isDomainError(error) && connection !== undefined && error.code !== 'too_many_requests') await this.#recordRefusal(context, scope, error);
      throw error;
    }
  }

  async #activeConnection(connectionId: string): Promise<{ signIn: SsoConnection; source: ProtocolConnection }> {
    const signIn = await this.#store.sso.findConnection(connectionId);
    if (signIn === undefined) throw ssoError('sso_connection_not_found');
    const source = signIn.kind === 'external' ? await this.#store.sso.findConnection(signIn.externalConnectionId) : signIn;
    if (source === undefined || source.kind === 'external') throw ssoError('sso_connection_not_found');
    if (signIn.status !== 'active' || source.status !== 'active') throw ssoError('requires_active_sso_connection');
    return { signIn, source };
  }

  async #begin(
    signIn: SsoConnection,
    source: ProtocolConnection,
    request: Pick<SsoRequest, 'purpose' | 'loginRedirectUrl' | 'signupRedirectUrl' | 'pkceCodeChallenge' | 'operatorId'>,
  ): Promise<string> {
    const token = createOpaqueToken(this.#random);
    const nonce = this.#random.bytes(16).toString('base64url');
    const { location, protocolRequestId } = await this.#protocols[source.kind].begin(source, { state: token.token, nonce });
    const now = this.#clock.now();
    await this.#store.sso.insertRequest({
      requestId: this.#ids.next('sso-request'),
      lookupId: token.lookupId,
      digest: token.digest.toString('hex'),
      connectionId: source.connectionId,
      signInConnectionId: signIn.connectionId,
      organizationId: signIn.organizationId,
      kind: source.kind,
      protocolRequestId,
      nonce,
      createdAt: toTimestamp(now),
      expiresAt: toTimestamp(new Date(now.getTime() + SSO_REQUEST_MINUTES * 60_000)),
      consumedAt: null,
      testResult: null,
      ...request,
    });
    return location;
  }

  /** The unspent, unexpired request the state token names; refused with the protocol's code otherwise. */
  async #findRequest(state: string, kind: ProtocolConnection['kind']): Promise<SsoRequest> {
    const missing = () => ssoError(kind === 'saml' ? 'missing_saml_relay_state' : 'missing_oidc_state_param');
    const request = await findByOpaqueToken(state, (lookupId) => this.#store.sso.findRequestByLookupId(lookupId), (found) => Buffer.from(found.digest, 'hex'));
    if (request === undefined) throw missing();
    if (request.consumedAt !== null || request.expiresAt <= toTimestamp(this.#clock.now())) throw ssoError(kind === 'saml' ? 'expired_saml_response' : 'expired_oidc_response');
    return request;
  }

  async #accept(
    tx: Ports,
    context: OperationContext,
    connection: ProtocolConnection,
    answered: SsoRequest | { readonly login: string; readonly signup: string },
    verified: VerifiedAnswer,
  ): Promise<string> {
    const now = this.#clock.now();
    const at = toTimestamp(now);
    const request = 'requestId' in answered ? answered : undefined;
    if (request !== undefined && !(await tx.sso.consumeRequest(request.requestId, at))) {
      throw ssoError(connection.kind === 'saml' ? 'expired_saml_response' : 'expired_oidc_response');
    }
    if (verified.assertion !== undefined && !(await tx.sso.rememberAssertion(connection.connectionId, verified.assertion.id, verified.assertion.expiresAt))) {
      throw ssoError('duplicate_saml_response');
    }
    const signInConnectionId = request?.signInConnectionId ?? connection.connectionId;
    const organizationId = request?.organizationId ?? connection.organizationId;
    const details = { connection_id: signInConnectionId, protocol: connection.kind, subject: verified.proof.subject, email_address: verified.proof.emailAddress };
    if (request?.purpose === 'test') {
      await tx.sso.setTestResult(request.requestId, { outcome: 'success', proof: verified.proof });
      await this.#audit.record(tx.audit, context, { type: 'sso.connection_tested', organizationId, details: { ...details, outcome: 'success', operator_id: request.operatorId } });
      return ssoTestResultPath(organizationId, signInConnectionId, request.requestId);
    }
    const token = createOpaqueToken(this.#random);
    await tx.sso.insertToken({
      tokenId: this.#ids.next('sso-token'),
      lookupId: token.lookupId,
      digest: token.digest.toString('hex'),
      organizationId,
      connectionId: signInConnectionId,
      proof: verified.proof,
      pkceCodeChallenge: request?.pkceCodeChallenge ?? '',
      createdAt: at,
      expiresAt: toTimestamp(new Date(now.getTime() + SSO_TOKEN_MINUTES * 60_000)),
      consumedAt: null,
    });
    const member = (await findSsoMember(tx, organizationId, { connectionId: signInConnectionId, proof: verified.proof }, {}))?.memberId;
    await this.#audit.record(tx.audit, context, { type: 'sso.idp_response_accepted', organizationId, memberId: member ?? null, details });
    const redirects = 'requestId' in answered ? { login: answered.loginRedirectUrl, signup: answered.signupRedirectUrl } : answered;
    const target = member === undefined ? redirects.signup : redirects.login;
    const url = new URL(target);
    url.searchParams.set('stytch_token_type', 'sso');
    url.searchParams.set('token', token.token);
    return url.toString();
  }

  async #recordRefusal(context: OperationContext, scope: { connectionId: string; organizationId: string | null }, error: DomainError): Promise<void> {
    await this.#store.transaction((tx) =>
      this.#audit.record(tx.audit, context, {
        type: 'sso.idp_response_refused',
        organizationId: scope.organizationId,
        details: { connection_id: scope.connectionId, error_type: error.code, why: error.message },
      }),
    );
  }

  async #recordTestRefusal(context: OperationContext, request: SsoRequest, error: DomainError): Promise<void> {
    await this.#store.transaction(async (tx) => {
      if (!(await tx.sso.consumeRequest(request.requestId, toTimestamp(this.#clock.now())))) return;
      await tx.sso.setTestResult(request.requestId, { outcome: 'refused', errorType: error.code, message: error.message });
      await this.#audit.record(tx.audit, context, {
        type: 'sso.connection_tested',
        organizationId: request.organizationId,
        details: { connection_id: request.signInConnectionId, outcome: 'refused', error_type: error.code, operator_id: request.operatorId },
      });
    });
  }
}
