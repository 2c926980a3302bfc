import { createPublicKey, verify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTypes } from '../../../src/domain/redirect-urls/redirect-url.js';
import { type SamlIdp, startSamlIdp } from '../../support/saml-idp.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { createOrganization, createSamlConnection, formOf, PASSWORD, postToAcs, signInThroughIdp, startSignIn, tokenOf, visit, xmlOf } from './saml-flow.js';

const ANN = { email: 'ann@acme.example', password: PASSWORD, name: 'Ann Lee', groups: ['admins', 'engineering'] };
const BOB = { email: 'Bob.Stone@Acme.example', password: PASSWORD, name: 'Bob Stone', groups: [] };

/**
 * SAML sign-in end to end, as a browser and a backend do it: the connection made with the official
 * SDK, the browser from Understudy's start URL to a real SAML IdP (samlify, tests/support/saml-idp.ts)
 * with its own login page, the IdP's self-posting form to the ACS, the redirect with the SSO token,
 * and sso.authenticate turning it into a member and a session.
 */
for (const store of STORES) {
  describe(`SAML sign-in (${store.name})`, () => {
    let server: TestServer;
    let idp: SamlIdp;

    beforeAll(async () => {
      server = await startTestServer({
        store: store.name,
        config: {
          redirectUrls: [
            { url: 'http://localhost:3000/authenticate', types: allTypes(true) },
            { url: 'http://localhost:3000/login', types: allTypes(false) },
          ],
        },
      });
      idp = await startSamlIdp({ users: [ANN, BOB] });
    });
    afterAll(async () => {
      await idp?.stop();
      await server?.stop();
    });

    it('serves our SP metadata for the connection: entity id = ACS URL = audience, our signing certificate, signed assertions wanted', async () => {
      const setup = await createSamlConnection(server, idp, await createOrganization(server, 'metadata-co'));
      const metadata = await visit(`${server.baseUrl}/v1/b2b/sso/saml/metadata/${setup.connectionId}`);
      expect(metadata.status).toBe(200);
      expect(metadata.headers.get('content-type')).toBe('application/samlmetadata+xml; charset=utf-8');
      expect(metadata.body).toContain(`entityID="${setup.acsUrl}"`);
      expect(metadata.body).toMatch(new RegExp(`<AssertionConsumerService[^>]*Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"[^>]*Location="${setup.acsUrl}"`));
      expect(metadata.body).toContain('WantAssertionsSigned="true"');
      expect(metadata.body).toContain('AuthnRequestsSigned="true"');
      const certificateBase64 = setup.signingCertificatePem.replace(/-----[A-Z ]+-----|\s/g, '');
      expect(metadata.body.replace(/\s/g, '')).toContain(certificateBase64);
    });

    it('answers 404 saml_connection_not_found for the metadata of an unknown connection', async () => {
      const unknown = await visit(`${server.baseUrl}/v1/b2b/sso/saml/metadata/saml-connection-test-00000000-0000-4000-8000-000000000000`);
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.body)).toMatchObject({ status_code: 404, error_type: 'saml_connection_not_found' });
    });

    it('sends a signed AuthnRequest (HTTP-Redirect) naming our entity id and ACS URL, with the sign-in as RelayState', async () => {
      const setup = await createSamlConnection(server, idp, await createOrganization(server, 'request-co'));
      const idpUrl = await startSignIn(server, setup.connectionId);
      expect(`${idpUrl.origin}${idpUrl.pathname}`).toBe(idp.ssoUrl);
      const request = inflateRawSync(Buffer.from(idpUrl.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
      expect(request).toContain(`AssertionConsumerServiceURL="${setup.acsUrl}"`);
      expect(request).toContain(`>${setup.acsUrl}</saml:Issuer>`);
      expect(request).toContain(`Destination="${idp.ssoUrl}"`);
      expect(request).toContain('Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"');
      expect(request).not.toContain('RequestedAuthnContext');
      expect(idpUrl.searchParams.get('RelayState')).toMatch(/^\S{20,}$/);
      expect(idpUrl.searchParams.get('SigAlg')).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
      // The binding's signature over the raw query, with the connection's signing certificate.
      const raw = idpUrl.search.slice(1).split('&');
      const signed = ['SAMLRequest', 'RelayState', 'SigAlg'].map((name) => raw.find((part) => part.startsWith(`${name}=`))).join('&');
      const signature = Buffer.from(idpUrl.searchParams.get('Signature') ?? '', 'base64');
      expect(verify('sha256', Buffer.from(signed), createPublicKey(setup.signingCertificatePem), signature)).toBe(true);
    });

    it('signs a new member up through the IdP: token on the signup URL, sso.authenticate provisions the member with the saml factor, groups and roles', async () => {
      const organizationId = await createOrganization(server, 'acme');
      const setup = await createSamlConnection(server, idp, organizationId, { saml_group_implicit_role_assignments: [{ group: 'admins', role_id: 'stytch_admin' }] });
      const { acs, post } = await signInThroughIdp(server, setup.connectionId, ANN);
      expect(post.action).toBe(setup.acsUrl);
      expect(xmlOf(post.SAMLResponse)).toContain('<ds:Signature');
      expect(acs.status, acs.body).toBe(303);
      expect(acs.headers.get('cache-control')).toBe('no-store');
      expect(acs.headers.get('referrer-policy')).toBe('no-referrer');
      expect(acs.location?.startsWith('http://localhost:3000/authenticate?stytch_token_type=sso&token=')).toBe(true);

      const response = await server.client.sso.authenticate({ sso_token: tokenOf(acs.location), session_duration_minutes: 60 });
      expect(response.organization_id).toBe(organizationId);
      expect(response.member).toMatchObject({ email_address: ANN.email, name: ANN.name, status: 'active', email_address_verified: true });
      expect(response.member.sso_registrations).toEqual([
        expect.objectContaining({
          connection_id: setup.connectionId,
          external_id: ANN.email,
          sso_attributes: expect.objectContaining({ email: ANN.email, firstName: 'Ann', lastName: 'Lee', groups: ['admins', 'engineering'] }),
        }),
      ]);
      expect(response.member_session?.authentication_factors).toEqual([
        expect.objectContaining({ type: 'sso', delivery_method: 'sso_saml', saml_sso_factor: expect.objectContaining({ provider_id: setup.connectionId, external_id: ANN.email }) }),
      ]);
      expect(response.member_session?.roles).toEqual(expect.arrayContaining(['stytch_member', 'stytch_admin']));
    });

    it('signs an existing member in by the asserted address (lower-cased): token on the login URL', async () => {
      const organizationId = await createOrganization(server, 'bobs');
      const existing = await server.client.organizations.members.create({ organization_id: organizationId, email_address: BOB.email.toLowerCase(), name: 'Bob' });
      const setup = await createSamlConnection(server, idp, organizationId);
      const { acs } = await signInThroughIdp(server, setup.connectionId, BOB, { login_redirect_url: 'http://localhost:3000/login' });
      expect(acs.status, acs.body).toBe(303);
      expect(new URL(acs.location ?? '').pathname).toBe('/login');
      const response = await server.client.sso.authenticate({ sso_token: tokenOf(acs.location), session_duration_minutes: 60 });
      expect(response.member.member_id).toBe(existing.member.member_id);
      expect(response.member.email_address).toBe('bob.stone@acme.example');
    });

    it('a wrong password at the IdP keeps the browser there', async () => {
      const setup = await createSamlConnection(server, idp, await createOrganization(server, 'wrong-password'));
      const idpUrl = await startSignIn(server, setup.connectionId);
      const login = await visit(idpUrl.href);
      const request = /name="request" value="([^"]+)"/.exec(login.body)?.[1] ?? '';
      const refused = await visit(idp.ssoUrl, { request, email: ANN.email, password: 'wrong' });
      expect(refused.status).toBe(401);
      expect(refused.body).toContain('role="alert"');
      // The right password afterwards signs in.
      const retried = await visit(idp.ssoUrl, { request, email: ANN.email, password: PASSWORD });
      expect(retried.status).toBe(200);
      const post = formOf(retried.body, idp.ssoUrl);
      expect(post.action).toBe(setup.acsUrl);
      const acs = await postToAcs(post.action, { SAMLResponse: post.fields.SAMLResponse ?? '', RelayState: post.fields.RelayState ?? '' });
      expect(acs.status, acs.body).toBe(303);
    });
  });
}
