import { describe, expect, it } from 'vitest';
import type { ExternalConnection, OidcConnection, SamlConnection, SsoCertificate } from '../../../src/domain/sso/sso-connection.js';
import type { SsoProof, SsoRequest } from '../../../src/domain/sso/sso-request.js';
import type { SsoToken } from '../../../src/domain/sso/sso-token.js';
import type { StoreFactory } from '../../support/stores.js';
import { useFreshStore } from './contract-support.js';

const NOW = '2026-03-01T12:00:00Z';
const at = (minutes: number): string => new Date(Date.parse(NOW) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const ORG = 'organization-test-1';
const OTHER_ORG = 'organization-test-2';

function aSaml(overrides: Partial<SamlConnection> = {}): SamlConnection {
  return {
    kind: 'saml',
    connectionId: 'saml-connection-test-1',
    organizationId: ORG,
    status: 'pending',
    displayName: 'Okta',
    identityProvider: 'okta',
    idpEntityId: '',
    idpSsoUrl: '',
    attributeMapping: {},
    alternativeAudienceUri: '',
    nameidFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    alternativeAcsUrl: '',
    idpInitiatedAuthDisabled: false,
    allowGatewayCallback: false,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

function anOidc(overrides: Partial<OidcConnection> = {}): OidcConnection {
  return {
    kind: 'oidc',
    connectionId: 'oidc-connection-test-1',
    organizationId: ORG,
    status: 'active',
    displayName: 'Entra',
    identityProvider: 'microsoft-entra',
    clientId: 'client',
    issuer: 'https://login.example.com',
    authorizationUrl: 'https://login.example.com/authorize',
    tokenUrl: 'https://login.example.com/token',
    userinfoUrl: '',
    jwksUrl: 'https://login.example.com/jwks',
    customScopes: 'groups',
    attributeMapping: { email: 'email' },
    createdAt: at(1),
    updatedAt: at(1),
    ...overrides,
  };
}

function anExternal(overrides: Partial<ExternalConnection> = {}): ExternalConnection {
  return {
    kind: 'external',
    connectionId: 'external-connection-test-1',
    organizationId: OTHER_ORG,
    status: 'active',
    displayName: 'Borrowed',
    identityProvider: 'okta',
    externalOrganizationId: ORG,
    externalConnectionId: 'saml-connection-test-1',
    createdAt: at(2),
    updatedAt: at(2),
    ...overrides,
  };
}

function aCertificate(overrides: Partial<SsoCertificate> = {}): SsoCertificate {
  return {
    certificateId: 'saml-verification-key-test-1',
    connectionId: 'saml-connection-test-1',
    organizationId: ORG,
    purpose: 'verification',
    certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    sealedPrivateKey: null,
    issuer: 'CN=idp.example.com',
    createdAt: NOW,
    expiresAt: '2036-03-01T12:00:00Z',
    ...overrides,
  };
}

const PROOF: SsoProof = {
  protocol: 'saml',
  connectionId: 'saml-connection-test-1',
  subject: 'alice@example.com',
  emailAddress: 'alice@example.com',
  name: 'Alice',
  groups: ['engineering'],
  attributes: { department: 'R&D', groups: ['engineering'] },
};

function aRequest(overrides: Partial<SsoRequest> = {}): SsoRequest {
  return {
    requestId: 'sso-request-test-1',
    lookupId: 'lookup-1',
    digest: 'ab'.repeat(32),
    connectionId: 'saml-connection-test-1',
    signInConnectionId: 'saml-connection-test-1',
    organizationId: ORG,
    kind: 'saml',
    purpose: 'sign_in',
    protocolRequestId: '_request-1',
    nonce: 'nonce-1',
    loginRedirectUrl: 'http://localhost:3000/login',
    signupRedirectUrl: 'http://localhost:3000/signup',
    pkceCodeChallenge: '',
    operatorId: '',
    createdAt: NOW,
    expiresAt: at(10),
    consumedAt: null,
    testResult: null,
    ...overrides,
  };
}

function aToken(overrides: Partial<SsoToken> = {}): SsoToken {
  return {
    tokenId: 'sso-token-test-1',
    lookupId: 'token-lookup-1',
    digest: 'cd'.repeat(32),
    organizationId: ORG,
    connectionId: 'saml-connection-test-1',
    proof: PROOF,
    pkceCodeChallenge: 'challenge',
    createdAt: NOW,
    expiresAt: at(10),
    consumedAt: null,
    ...overrides,
  };
}

/** The SsoStore port against one adapter: connections, certificates, single-use requests, tokens and assertions, subjects. */
export function describeSsoStoreContract(factory: StoreFactory): void {
  describe('SsoStore', () => {
    const store = useFreshStore(factory);

    it('keeps each kind of connection with its own settings, lists an organization’s oldest first, and finds the external ones borrowing a connection', async () => {
      const saml = aSaml();
      const oidc = anOidc();
      const external = anExternal();
      await store().sso.insertConnection(oidc, null);
      await store().sso.insertConnection(saml, 'v1.sealed');
      await store().sso.insertConnection(external, null);
      expect(await store().sso.findConnection(saml.connectionId)).toEqual(saml);
      expect(await store().sso.findConnection(oidc.connectionId)).toEqual(oidc);
      expect(await store().sso.findConnection(external.connectionId)).toEqual(external);
      expect(await store().sso.findConnection('saml-connection-test-none')).toBeUndefined();
      expect((await store().sso.listConnections(ORG)).map((connection) => connection.connectionId)).toEqual([saml.connectionId, oidc.connectionId]);
      expect(await store().sso.listConnections(OTHER_ORG)).toEqual([external]);
      expect(await store().sso.listConnections('organization-test-none')).toEqual([]);
      expect(await store().sso.listConnectionsBorrowing(saml.connectionId)).toEqual([external]);
      expect(await store().sso.listConnectionsBorrowing(oidc.connectionId)).toEqual([]);
      expect(await store().sso.findSealedSecrets(saml.connectionId)).toBe('v1.sealed');
      expect(await store().sso.findSealedSecrets(oidc.connectionId)).toBeNull();
    });

    it('replaces every field but the kind, organization and creation time, under a lock taken in the transaction; sealed secrets apart', async () => {
      const saml = aSaml();
      await store().sso.insertConnection(saml, 'v1.first');
      const changed = aSaml({
        status: 'active',
        displayName: 'Renamed',
        identityProvider: 'generic',
        idpEntityId: 'https://idp.example.com',
        idpSsoUrl: 'https://idp.example.com/sso',
        attributeMapping: { email: 'mail', groups: 'memberOf' },
        idpInitiatedAuthDisabled: true,
        updatedAt: at(5),
      });
      await store().transaction(async (tx) => {
        expect(await tx.sso.findConnection(saml.connectionId, { forUpdate: true })).toEqual(saml);
        await tx.sso.replaceConnection(changed);
      });
      expect(await store().sso.findConnection(saml.connectionId)).toEqual(changed);
      // The organization in the row decides: a connection cannot be moved to another organization.
      await store().sso.replaceConnection({ ...changed, organizationId: OTHER_ORG, displayName: 'Moved' });
      expect(await store().sso.findConnection(saml.connectionId)).toEqual(changed);
      expect(await store().sso.findSealedSecrets(saml.connectionId)).toBe('v1.first');
      await store().sso.setSealedSecrets(saml.connectionId, 'v1.second', at(6));
      expect(await store().sso.findSealedSecrets(saml.connectionId)).toBe('v1.second');
      expect((await store().sso.findConnection(saml.connectionId))?.updatedAt).toBe(at(6));
      await store().sso.setSealedSecrets(saml.connectionId, null, at(7));
      expect(await store().sso.findSealedSecrets(saml.connectionId)).toBeNull();
    });

    it('keeps certificates of each purpose oldest first, lists several connections’ at once, and deletes one only of its connection and purpose', async () => {
      await store().sso.insertConnection(aSaml(), null);
      await store().sso.insertConnection(aSaml({ connectionId: 'saml-connection-test-2' }), null);
      const verification = aCertificate();
      const signing = aCertificate({ certificateId: 'saml-signing-key-test-1', purpose: 'signing', sealedPrivateKey: 'v1.key', issuer: 'CN=saml-connection-test-1', createdAt: at(1) });
      const encryption = aCertificate({ certificateId: 'saml-encryption-key-test-1', purpose: 'encryption', certificate: '', sealedPrivateKey: 'v1.other', issuer: '', expiresAt: null, createdAt: at(2) });
      const elsewhere = aCertificate({ certificateId: 'saml-verification-key-test-2', connectionId: 'saml-connection-test-2', createdAt: at(3) });
      for (const certificate of [encryption, elsewhere, signing, verification]) await store().sso.insertCertificate(certificate);
      expect(await store().sso.listCertificates('saml-connection-test-1')).toEqual([verification, signing, encryption]);
      expect(await store().sso.listCertificatesOfConnections(['saml-connection-test-1', 'saml-connection-test-2'])).toEqual([verification, signing, encryption, elsewhere]);
      expect(await store().sso.listCertificatesOfConnections([])).toEqual([]);
      expect(await store().sso.deleteCertificate('saml-connection-test-1', signing.certificateId, 'verification')).toBe(false);
      expect(await store().sso.deleteCertificate('saml-connection-test-2', signing.certificateId, 'signing')).toBe(false);
      expect(await store().sso.deleteCertificate('saml-connection-test-1', signing.certificateId, 'signing')).toBe(true);
      expect(await store().sso.deleteCertificate('saml-connection-test-1', signing.certificateId, 'signing')).toBe(false);
      expect(await store().sso.listCertificates('saml-connection-test-1')).toEqual([verification, encryption]);
    });

    it('finds a request by lookup id or id and spends it once, only while unexpired; records a test’s outcome and nothing else', async () => {
      const request = aRequest();
      await store().sso.insertRequest(request);
      expect(await store().sso.findRequestByLookupId('lookup-1')).toEqual(request);
      expect(await store().sso.findRequest(request.requestId)).toEqual(request);
      expect(await store().sso.findRequestByLookupId('lookup-none')).toBeUndefined();
      expect(await store().sso.consumeRequest(request.requestId, at(10))).toBe(false);
      expect(await store().sso.consumeRequest(request.requestId, at(1))).toBe(true);
      expect(await store().sso.consumeRequest(request.requestId, at(2))).toBe(false);
      expect(await store().sso.findRequest(request.requestId)).toEqual({ ...request, consumedAt: at(1) });

      const test = aRequest({ requestId: 'sso-request-test-2', lookupId: 'lookup-2', purpose: 'test', operatorId: 'operator-test-1', loginRedirectUrl: '', signupRedirectUrl: '' });
      await store().sso.insertRequest(test);
      await store().sso.setTestResult(test.requestId, { outcome: 'success', proof: PROOF });
      expect(await store().sso.findRequest(test.requestId)).toEqual({ ...test, testResult: { outcome: 'success', proof: PROOF } });
      await store().sso.setTestResult(test.requestId, { outcome: 'refused', errorType: 'expired_saml_response', message: 'Too late.' });
      expect((await store().sso.findRequest(test.requestId))?.testResult).toEqual({ outcome: 'refused', errorType: 'expired_saml_response', message: 'Too late.' });
    });

    it('lets exactly one of concurrent spends of a request, and of a token, win', async () => {
      await store().sso.insertRequest(aRequest());
      const requests = await Promise.all(Array.from({ length: 12 }, () => store().sso.consumeRequest('sso-request-test-1', at(1))));
      expect(requests.filter(Boolean)).toHaveLength(1);
      await store().sso.insertToken(aToken());
      const tokens = await Promise.all(Array.from({ length: 12 }, () => store().sso.consumeToken('sso-token-test-1', at(1))));
      expect(tokens.filter(Boolean)).toHaveLength(1);
    });

    it('finds a token by lookup id with what the IdP asserted, and spends it once, only while unexpired', async () => {
      const token = aToken();
      await store().sso.insertToken(token);
      expect(await store().sso.findTokenByLookupId('token-lookup-1')).toEqual(token);
      expect(await store().sso.findTokenByLookupId('token-lookup-none')).toBeUndefined();
      expect(await store().sso.consumeToken(token.tokenId, at(11))).toBe(false);
      expect(await store().sso.consumeToken(token.tokenId, at(3))).toBe(true);
      expect(await store().sso.consumeToken(token.tokenId, at(4))).toBe(false);
      expect(await store().sso.findTokenByLookupId('token-lookup-1')).toEqual({ ...token, consumedAt: at(3) });
      expect(await store().sso.consumeToken('sso-token-test-none', at(1))).toBe(false);
    });

    it('remembers an assertion id per connection once, even concurrently', async () => {
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => store().sso.rememberAssertion('saml-connection-test-1', '_assertion-1', at(15))));
      expect(outcomes.filter(Boolean)).toHaveLength(1);
      expect(await store().sso.rememberAssertion('saml-connection-test-1', '_assertion-1', at(15))).toBe(false);
      // The same id at another connection is another assertion.
      expect(await store().sso.rememberAssertion('saml-connection-test-2', '_assertion-1', at(15))).toBe(true);
    });

    it('links an IdP subject to one member, replacing an earlier link, and forgets a member’s links', async () => {
      const link = { connectionId: 'saml-connection-test-1', externalId: 'alice', organizationId: ORG, memberId: 'member-test-1', registrationId: 'saml-member-registration-test-1' };
      expect(await store().sso.findSubjectMember(link.connectionId, link.externalId)).toBeUndefined();
      await store().sso.linkSubject(link);
      expect(await store().sso.findSubjectMember(link.connectionId, 'alice')).toBe('member-test-1');
      expect(await store().sso.findSubjectMember('saml-connection-test-2', 'alice')).toBeUndefined();
      await store().sso.linkSubject({ ...link, memberId: 'member-test-2', registrationId: 'saml-member-registration-test-2' });
      expect(await store().sso.findSubjectMember(link.connectionId, 'alice')).toBe('member-test-2');
      await store().sso.linkSubject({ ...link, externalId: 'bob', memberId: 'member-test-3' });
      await store().sso.unlinkMember('member-test-2');
      expect(await store().sso.findSubjectMember(link.connectionId, 'alice')).toBeUndefined();
      expect(await store().sso.findSubjectMember(link.connectionId, 'bob')).toBe('member-test-3');
    });

    it('deletes a connection with its certificates, requests, tokens, assertions and subjects, and leaves others alone', async () => {
      const kept = aSaml({ connectionId: 'saml-connection-test-2' });
      await store().sso.insertConnection(aSaml(), null);
      await store().sso.insertConnection(kept, null);
      for (const connectionId of ['saml-connection-test-1', 'saml-connection-test-2']) {
        const n = connectionId.slice(-1);
        await store().sso.insertCertificate(aCertificate({ certificateId: `saml-verification-key-test-${n}`, connectionId }));
        await store().sso.insertRequest(aRequest({ requestId: `sso-request-test-${n}`, lookupId: `lookup-${n}`, connectionId, signInConnectionId: connectionId }));
        await store().sso.insertToken(aToken({ tokenId: `sso-token-test-${n}`, lookupId: `token-lookup-${n}`, connectionId }));
        await store().sso.rememberAssertion(connectionId, '_assertion', at(15));
        await store().sso.linkSubject({ connectionId, externalId: 'alice', organizationId: ORG, memberId: `member-test-${n}`, registrationId: `saml-member-registration-test-${n}` });
      }
      expect(await store().sso.deleteConnection('saml-connection-test-1')).toBe(true);
      expect(await store().sso.deleteConnection('saml-connection-test-1')).toBe(false);
      expect(await store().sso.findConnection('saml-connection-test-1')).toBeUndefined();
      expect(await store().sso.listCertificates('saml-connection-test-1')).toEqual([]);
      expect(await store().sso.findRequest('sso-request-test-1')).toBeUndefined();
      expect(await store().sso.findTokenByLookupId('token-lookup-1')).toBeUndefined();
      expect(await store().sso.findSubjectMember('saml-connection-test-1', 'alice')).toBeUndefined();
      // Its assertion ids are forgotten too: a later connection with the same id starts afresh.
      expect(await store().sso.rememberAssertion('saml-connection-test-1', '_assertion', at(15))).toBe(true);

      expect(await store().sso.findConnection('saml-connection-test-2')).toEqual(kept);
      expect(await store().sso.listCertificates('saml-connection-test-2')).toHaveLength(1);
      expect(await store().sso.findRequest('sso-request-test-2')).toBeDefined();
      expect(await store().sso.findTokenByLookupId('token-lookup-2')).toBeDefined();
      expect(await store().sso.findSubjectMember('saml-connection-test-2', 'alice')).toBe('member-test-2');
      expect(await store().sso.rememberAssertion('saml-connection-test-2', '_assertion', at(15))).toBe(false);
    });

    it('deletes every connection of an organization and what hangs off them, and only those', async () => {
      await store().sso.insertConnection(aSaml(), null);
      await store().sso.insertConnection(anOidc(), 'v1.secret');
      const external = anExternal();
      await store().sso.insertConnection(external, null);
      await store().sso.insertCertificate(aCertificate());
      await store().sso.insertRequest(aRequest());
      await store().sso.insertToken(aToken());
      await store().sso.rememberAssertion('saml-connection-test-1', '_assertion', at(15));
      await store().sso.linkSubject({ connectionId: 'oidc-connection-test-1', externalId: 'sub-1', organizationId: ORG, memberId: 'member-test-1', registrationId: 'oidc-member-registration-test-1' });
      await store().sso.linkSubject({ connectionId: external.connectionId, externalId: 'alice', organizationId: OTHER_ORG, memberId: 'member-test-9', registrationId: 'saml-member-registration-test-9' });
      await store().sso.deleteConnectionsOfOrganization(ORG);
      expect(await store().sso.listConnections(ORG)).toEqual([]);
      expect(await store().sso.listCertificates('saml-connection-test-1')).toEqual([]);
      expect(await store().sso.findRequest('sso-request-test-1')).toBeUndefined();
      expect(await store().sso.findTokenByLookupId('token-lookup-1')).toBeUndefined();
      expect(await store().sso.findSubjectMember('oidc-connection-test-1', 'sub-1')).toBeUndefined();
      expect(await store().sso.rememberAssertion('saml-connection-test-1', '_assertion', at(15))).toBe(true);
      expect(await store().sso.listConnections(OTHER_ORG)).toEqual([external]);
      expect(await store().sso.findSubjectMember(external.connectionId, 'alice')).toBe('member-test-9');
    });

    it('sweeps requests, tokens and assertion ids that lapsed before the time given, and nothing else', async () => {
      await store().sso.insertRequest(aRequest({ expiresAt: at(5) }));
      await store().sso.insertRequest(aRequest({ requestId: 'sso-request-test-2', lookupId: 'lookup-2', expiresAt: at(20) }));
      await store().sso.insertToken(aToken({ expiresAt: at(5) }));
      await store().sso.insertToken(aToken({ tokenId: 'sso-token-test-2', lookupId: 'token-lookup-2', expiresAt: at(20) }));
      await store().sso.rememberAssertion('saml-connection-test-1', '_old', at(5));
      await store().sso.rememberAssertion('saml-connection-test-1', '_new', at(20));
      expect(await store().sso.sweepExpired(at(10))).toBe(3);
      expect(await store().sso.findRequest('sso-request-test-1')).toBeUndefined();
      expect(await store().sso.findRequest('sso-request-test-2')).toBeDefined();
      expect(await store().sso.findTokenByLookupId('token-lookup-1')).toBeUndefined();
      expect(await store().sso.findTokenByLookupId('token-lookup-2')).toBeDefined();
      expect(await store().sso.rememberAssertion('saml-connection-test-1', '_old', at(25))).toBe(true);
      expect(await store().sso.rememberAssertion('saml-connection-test-1', '_new', at(25))).toBe(false);
      expect(await store().sso.sweepExpired(at(10))).toBe(0);
    });
  });
}
