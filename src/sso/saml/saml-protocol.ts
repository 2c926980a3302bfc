import { type CacheProvider, generateServiceProviderMetadata, SAML, ValidateInResponseTo } from '@node-saml/node-saml';
import type { StorePorts } from '../../domain/ports.js';
import { openCertificateKey } from '../../domain/sso/connections-secrets.js';
import { ssoError } from '../../domain/sso/errors.js';
import type { SamlConnection, SsoCertificate } from '../../domain/sso/sso-connection.js';
import type { ProtocolConnection, SsoProtocol, VerifiedAnswer } from '../../domain/sso/sso-flows.js';
import type { SsoRequest } from '../../domain/sso/sso-request.js';
import { ssoCallbackUrl } from '../../domain/sso/sso-urls.js';
import { toTimestamp, type Clock } from '../../platform/clock.js';
import type { PublicOrigin } from '../../platform/public-origin.js';
import type { Random } from '../../platform/random.js';
import { checkAssertion } from './saml-assertion.js';
import { samlProofOf } from './saml-proof.js';
import { readSamlResponse, refusalOf } from './saml-response.js';
import { parseSamlXml, SAML_NS } from './saml-xml.js';

/** What the ACS receives (HTTP-POST binding). */
export interface SamlPost {
  readonly SAMLResponse: string | undefined;
  readonly RelayState: string | undefined;
}

/**
 * SAML 2.0 for SSO connections (docs/sso.md, "SAML"), with @node-saml/node-saml: AuthnRequests
 * (HTTP-Redirect binding, signed with the connection's signing key), the IdP's Response at the ACS
 * (HTTP-POST binding), and our SP metadata. The connection's audience URI, entity id and ACS URL
 * are one URL, its callback URL, as at Stytch.
 *
 * node-saml verifies the signatures (only what a signature covers is read afterwards: a wrapped
 * or unsigned assertion is never the one read), decrypts, checks InResponseTo against the request
 * and reads the signed assertion; the profile checks it leaves out (issuer, audience with the
 * connection's alternative, Recipient, the bearer confirmation) and the time checks, made with the
 * server's clock, are saml-assertion.ts's.
 */
export class SamlProtocol implements SsoProtocol {
  readonly #store: Pick<StorePorts, 'sso'>;
  readonly #origin: PublicOrigin;
  readonly #masterKey: Buffer;
  readonly #clock: Clock;
  readonly #random: Random;

  constructor(dependencies: { store: Pick<StorePorts, 'sso'>; origin: PublicOrigin; masterKey: Buffer; clock: Clock; random: Random }) {
    this.#store = dependencies.store;
    this.#origin = dependencies.origin;
    this.#masterKey = dependencies.masterKey;
    this.#clock = dependencies.clock;
    this.#random = dependencies.random;
  }

  /** The AuthnRequest, as the URL of the IdP's sign-in (HTTP-Redirect binding) carrying `state` as RelayState. */
  async begin(connection: ProtocolConnection, request: { readonly state: string; readonly nonce: string }): Promise<{ location: string; protocolRequestId: string }> {
    const saml = samlConnection(connection);
    const certificates = await this.#store.sso.listCertificates(saml.connectionId);
    const signing = newest(certificates, 'signing');
    const requestId = this.#newId();
    const url = this.#callbackUrl(saml);
    const client = new SAML({
      entryPoint: saml.idpSsoUrl,
      issuer: url,
      callbackUrl: url,
      // Not used for requests, but required by the constructor.
      idpCert: verificationCertificates(certificates),
      identifierFormat: saml.nameidFormat === '' ? null : saml.nameidFormat,
      // Asking for a particular authentication context makes IdPs refuse members who signed in some other way (MFA, Kerberos).
      disableRequestedAuthnContext: true,
      generateUniqueId: () => requestId,
      signatureAlgorithm: 'sha256',
      ...(signing?.sealedPrivateKey && { privateKey: this.#unseal(signing) }),
    });
    const location = await client.getAuthorizeUrlAsync(request.state, undefined, {});
    return { location, protocolRequestId: requestId };
  }

  /**
   * The IdP's Response posted to the ACS, for `request` (the sign-in its RelayState named) or, with
   * no request, IdP-initiated. Answers the proof and the assertion's ID with how long it must be
   * remembered (SsoFlows refuses it again as `duplicate_saml_response`); throws the refusal's code.
   */
  async verifyResponse(connection: ProtocolConnection, request: SsoRequest | undefined, post: SamlPost): Promise<VerifiedAnswer> {
    const saml = samlConnection(connection);
    if (request === undefined && saml.idpInitiatedAuthDisabled) throw ssoError('unsolicited_saml_response', 'This connection accepts only answers to sign-ins started here (IdP-initiated sign-in is disabled).');
    const url = this.#callbackUrl(saml);
    const recipients = withAlternative(url, saml.alternativeAcsUrl);
    const inResponseTo = request?.protocolRequestId ?? '';
    const response = readSamlResponse(post.SAMLResponse, { idpEntityId: saml.idpEntityId, recipients, inResponseTo });
    const certificates = await this.#store.sso.listCertificates(saml.connectionId);
    const verification = verificationCertificates(certificates);
    if (verification.length === 0) throw ssoError('invalid_signature_saml_response', 'The connection has no verification certificate to check the SAML response with.');
    const decryptionKey = response.encryptedAssertion === undefined ? undefined : await response.decrypt(this.#decryptionKeys(certificates));
    const client = new SAML({
      callbackUrl: url,
      issuer: url,
      idpCert: verification,
      idpIssuer: saml.idpEntityId,
      // The audience (ours or the alternative) is checked with the Recipient in saml-assertion.ts.
      audience: false,
      wantAssertionsSigned: true,
      // Many IdPs sign only the assertion; the assertion's own signature is what counts.
      wantAuthnResponseSigned: false,
      // node-saml reads the system clock; the server's (injectable) clock decides, in saml-assertion.ts.
      acceptedClockSkewMs: -1,
      validateInResponseTo: request === undefined ? ValidateInResponseTo.never : ValidateInResponseTo.always,
      cacheProvider: onlyRequest(request),
      // The request's own lifetime (SsoFlows, the server's clock) is what limits it.
      requestIdExpirationPeriodMs: Number.MAX_SAFE_INTEGER,
      ...(decryptionKey !== undefined && { decryptionPvk: decryptionKey }),
    });
    let signedAssertionXml: string;
    try {
      const { profile } = await client.validatePostResponseAsync({ SAMLResponse: response.base64 });
      signedAssertionXml = profile?.getAssertionXml?.() ?? '';
    } catch (error) {
      throw refusalOf(error, response);
    }
    if (signedAssertionXml === '') throw ssoError('invalid_saml_response', 'The SAML response holds no signed assertion.');
    const assertion = parseSamlXml(signedAssertionXml);
    if (assertion.localName !== 'Assertion' || assertion.namespaceURI !== SAML_NS) throw ssoError('invalid_saml_response', 'The SAML response holds no signed assertion.');
    const checked = checkAssertion(assertion, {
      idpEntityId: saml.idpEntityId,
      audiences: withAlternative(url, saml.alternativeAudienceUri),
      recipients,
      inResponseTo,
      now: this.#clock.now(),
    });
    return { proof: samlProofOf(saml, checked), assertion: { id: checked.id, expiresAt: toTimestamp(checked.acceptableUntil) } };
  }

  /** Our SP metadata for the connection (what its IdP is configured with); `saml_connection_not_found` for any other id. */
  async metadata(connectionId: string): Promise<string> {
    const connection = await this.#store.sso.findConnection(connectionId);
    if (connection?.kind !== 'saml') throw ssoError('saml_connection_not_found');
    const certificates = await this.#store.sso.listCertificates(connectionId);
    const signing = newest(certificates, 'signing');
    const encryption = certificates.filter((certificate) => certificate.purpose === 'encryption' && certificate.certificate !== '' && certificate.sealedPrivateKey !== null).at(-1);
    const url = this.#callbackUrl(connection);
    return generateServiceProviderMetadata({
      issuer: url,
      callbackUrl: url,
      identifierFormat: connection.nameidFormat === '' ? null : connection.nameidFormat,
      wantAssertionsSigned: true,
      signatureAlgorithm: 'sha256',
      generateUniqueId: () => this.#newId(),
      ...(signing?.sealedPrivateKey && { privateKey: this.#unseal(signing), publicCerts: [signing.certificate] }),
      ...(encryption !== undefined && { decryptionPvk: this.#unseal(encryption), decryptionCert: encryption.certificate }),
    });
  }

  #callbackUrl(connection: SamlConnection): string {
    return ssoCallbackUrl(this.#origin.url, connection.connectionId);
  }

  /** An xs:ID (an NCName: it may not start with a digit) of 160 random bits. */
  #newId(): string {
    return `_${this.#random.bytes(20).toString('hex')}`;
  }

  #unseal(certificate: SsoCertificate): string {
    return openCertificateKey(certificate.sealedPrivateKey ?? '', { masterKey: this.#masterKey, certificateId: certificate.certificateId });
  }

  /** The keys an assertion may be encrypted to: the uploaded encryption keys, newest first, then our signing keys. */
  #decryptionKeys(certificates: readonly SsoCertificate[]): string[] {
    const byPurpose = (purpose: SsoCertificate['purpose']) => certificates.filter((certificate) => certificate.purpose === purpose && certificate.sealedPrivateKey !== null).reverse();
    return [...byPurpose('encryption'), ...byPurpose('signing')].map((certificate) => this.#unseal(certificate));
  }
}

function samlConnection(connection: ProtocolConnection): SamlConnection {
  if (connection.kind !== 'saml') throw ssoError('saml_connection_not_found');
  return connection;
}

function newest(certificates: readonly SsoCertificate[], purpose: SsoCertificate['purpose']): SsoCertificate | undefined {
  return certificates.filter((certificate) => certificate.purpose === purpose).at(-1);
}

function verificationCertificates(certificates: readonly SsoCertificate[]): string[] {
  return certificates.filter((certificate) => certificate.purpose === 'verification' && certificate.certificate !== '').map((certificate) => certificate.certificate);
}

function withAlternative(url: string, alternative: string): string[] {
  return alternative === '' ? [url] : [url, alternative];
}

/** node-saml's InResponseTo check asks this cache which request ids are outstanding: only the request's own. */
function onlyRequest(request: SsoRequest | undefined): CacheProvider {
  return {
    saveAsync: async () => null,
    getAsync: async (key) => (request !== undefined && request.protocolRequestId !== '' && key === request.protocolRequestId ? request.createdAt : null),
    removeAsync: async () => null,
  };
}
