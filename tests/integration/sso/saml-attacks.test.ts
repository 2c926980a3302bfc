import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabaseProbe } from '../../reliability/support/table-snapshot.js';
import { newSamlKeyPair, type SamlIdp, type SamlKeyPair, type SamlResponseOptions, startSamlIdp } from '../../support/saml-idp.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';
import { openRecordProbe } from '../../support/write-probe.js';
import { base64Of, createOrganization, createSamlConnection, PASSWORD, postToAcs, type SamlSetup, signInThroughIdp, startSignIn, tokenOf, visit, xmlOf } from './saml-flow.js';

const ANN = { email: 'ann@acme.example', password: PASSWORD, name: 'Ann Lee', groups: ['admins'] };
/** Has an account at the same IdP, and tries to become Ann with her own signed assertion. */
const MALLORY = { email: 'mallory@acme.example', password: PASSWORD, name: 'Mallory Moe', groups: [] };
const LONG_ANN = { email: 'ann@acme.example.evil.test', password: PASSWORD, name: 'Not Ann', groups: [] };

const MINUTE = 60_000;

/**
 * What the ACS refuses, each the way an attacker (or a broken IdP) would send it: every refusal is
 * a Stytch-shaped 4xx naming the precise error_type, writes nothing (no token, member, session, spent
 * sign-in or remembered assertion: the whole database is compared) but one `sso.idp_response_refused`
 * audit event naming it. Responses come from a real samlify IdP (tests/support/saml-idp.ts), altered
 * where the attack needs it.
 */
for (const store of STORES) {
  describe(`SAML ACS attacks (${store.name})`, () => {
    let server: TestServer;
    let idp: SamlIdp;
    /** IdP-initiated sign-in disabled. */
    let acme: SamlSetup;
    /** Another organization's connection to the same IdP. */
    let globex: SamlSetup;
    /** Accepts IdP-initiated responses. */
    let initech: SamlSetup;
    let strangerKey: SamlKeyPair;

    beforeAll(async () => {
      server = await startTestServer({ store: store.name });
      idp = await startSamlIdp({ users: [ANN, MALLORY, LONG_ANN] });
      acme = await createSamlConnection(server, idp, await createOrganization(server, 'acme'), { idp_initiated_auth_disabled: true });
      globex = await createSamlConnection(server, idp, await createOrganization(server, 'globex'), { idp_initiated_auth_disabled: true });
      initech = await createSamlConnection(server, idp, await createOrganization(server, 'initech'), { idp_initiated_auth_disabled: false });
      strangerKey = await newSamlKeyPair('Not the IdP');
    });
    afterAll(async () => {
      await idp?.stop();
      await server?.stop();
    });

    /** A sign-in started at Understudy for the connection: the AuthnRequest's ID and the RelayState. */
    async function started(setup: SamlSetup): Promise<{ requestId: string; relayState: string }> {
      const url = await startSignIn(server, setup.connectionId);
      const request = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest') ?? '', 'base64')).toString('utf8');
      return { requestId: /\bID="([^"]+)"/.exec(request)?.[1] ?? '', relayState: url.searchParams.get('RelayState') ?? '' };
    }

    /** A response to a sign-in started for the connection, with the IdP's overrides; answers what to post. */
    async function answer(setup: SamlSetup, options: SamlResponseOptions = {}): Promise<{ SAMLResponse: string; RelayState: string }> {
      const { requestId, relayState } = await started(setup);
      const SAMLResponse = await idp.issueResponse({ serviceProvider: setup.acsUrl, user: ANN.email, inResponseTo: requestId, ...options });
      return { SAMLResponse, RelayState: relayState };
    }

    /** Posts to the connection's ACS and expects the refusal, nothing written but its audit event. */
    async function expectRefused(setup: SamlSetup, form: { SAMLResponse?: string; RelayState?: string }, errorType: string, status = 400): Promise<Record<string, unknown>> {
      const probe = await openRecordProbe(server);
      try {
        const response = await probe.expectOnlyRecords(['sso.idp_response_refused'], () => visit(setup.acsUrl, Object.fromEntries(Object.entries(form).filter(([, value]) => value !== undefined)) as Record<string, string>));
        expect(response.status, response.body).toBe(status);
        const body = JSON.parse(response.body) as Record<string, unknown>;
        expect(body).toMatchObject({ status_code: status, error_type: errorType, error_url: `https://stytch.com/docs/api-reference/b2b/api/errors/${status}#${errorType}` });
        expect(typeof body.error_message).toBe('string');
        const events = (await server.server.store.audit.searchEvents({}, { limit: 10_000, afterEventId: null })).filter((event) => event.requestId === body.request_id);
        expect(events.map((event) => event.type)).toEqual(['sso.idp_response_refused']);
        expect(events[0]?.details).toMatchObject({ connection_id: setup.connectionId, error_type: errorType });
        return body;
      } finally {
        await probe.close();
      }
    }

    async function expectAccepted(setup: SamlSetup, form: { SAMLResponse: string; RelayState?: string }): Promise<string> {
      const response = await postToAcs(setup.acsUrl, form);
      expect(response.status, response.body).toBe(303);
      return tokenOf(response.location);
    }

    describe('signatures', () => {
      it('refuses an unsigned assertion: missing_signature_saml_response', async () => {
        await expectRefused(acme, await answer(acme, { sign: 'none' }), 'missing_signature_saml_response');
      });

      it('refuses a signed Response whose assertion is not signed itself: missing_signature_saml_response', async () => {
        await expectRefused(acme, await answer(acme, { sign: 'response' }), 'missing_signature_saml_response');
      });

      it('accepts the assertion signed and the Response signed too', async () => {
        await expectAccepted(acme, await answer(acme, { sign: 'both' }));
      });

      it('refuses an assertion signed by a key that is not among the verification certificates: invalid_signature_saml_response', async () => {
        await expectRefused(acme, await answer(acme, { signingKey: strangerKey }), 'invalid_signature_saml_response');
      });

      it('refuses a signed assertion altered afterwards (the signature no longer matches): invalid_signature_saml_response', async () => {
        const form = await answer(acme, { user: MALLORY.email });
        await expectRefused(acme, { ...form, SAMLResponse: base64Of(xmlOf(form.SAMLResponse).replaceAll(MALLORY.email, ANN.email)) }, 'invalid_signature_saml_response');
      });
    });

    describe('XML signature wrapping: Mallory wraps her own signed assertion to read as Ann', () => {
      /** Mallory's signed Response for a sign-in of `setup`, split around her signed assertion, and an unsigned copy naming Ann. */
      async function mallorys(setup: SamlSetup) {
        const form = await answer(setup, { user: MALLORY.email });
        const xml = xmlOf(form.SAMLResponse);
        const start = xml.indexOf('<saml:Assertion ');
        const end = xml.lastIndexOf('</saml:Assertion>') + '</saml:Assertion>'.length;
        const signed = xml.slice(start, end);
        const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(signed)?.[0] ?? '';
        expect(signature).not.toBe('');
        const evil = signed.replace(signature, '').replaceAll(MALLORY.email, ANN.email).replaceAll(MALLORY.name, ANN.name);
        return { form, head: xml.slice(0, start), tail: xml.slice(end), signed, signature, evil, id: /\bID="([^"]+)"/.exec(signed)?.[1] ?? '' };
      }
      /** Puts `wrapped` into a samlp:Extensions right after the Response's Issuer. */
      function withExtensions(head: string, wrapped: string): string {
        const issuerEnd = head.indexOf('</saml:Issuer>') + '</saml:Issuer>'.length;
        return `${head.slice(0, issuerEnd)}<samlp:Extensions>${wrapped}</samlp:Extensions>${head.slice(issuerEnd)}`;
      }

      it('an unsigned evil assertion before the signed one (two assertions): invalid_signature_saml_response', async () => {
        const m = await mallorys(acme);
        const evil = m.evil.replace(`ID="${m.id}"`, 'ID="_evil"');
        await expectRefused(acme, { ...m.form, SAMLResponse: base64Of(`${m.head}${evil}${m.signed}${m.tail}`) }, 'invalid_signature_saml_response');
      });

      it('the signed assertion moved into an Extensions wrapper, the evil one in its place: missing_signature_saml_response', async () => {
        const m = await mallorys(acme);
        const evil = m.evil.replace(`ID="${m.id}"`, 'ID="_evil"');
        await expectRefused(acme, { ...m.form, SAMLResponse: base64Of(`${withExtensions(m.head, m.signed)}${evil}${m.tail}`) }, 'missing_signature_saml_response');
      });

      it("the evil assertion carrying the signed one's signature, which references the wrapped original: invalid_signature_saml_response", async () => {
        const m = await mallorys(acme);
        const evil = m.evil.replace(`ID="${m.id}"`, 'ID="_evil"').replace('</saml:Issuer>', `</saml:Issuer>${m.signature}`);
        await expectRefused(acme, { ...m.form, SAMLResponse: base64Of(`${withExtensions(m.head, m.signed)}${evil}${m.tail}`) }, 'invalid_signature_saml_response');
      });

      it("the evil assertion with the original's ID and signature, the original wrapped: invalid_signature_saml_response", async () => {
        const m = await mallorys(acme);
        const evil = m.evil.replace('</saml:Issuer>', `</saml:Issuer>${m.signature}`);
        await expectRefused(acme, { ...m.form, SAMLResponse: base64Of(`${withExtensions(m.head, m.signed)}${evil}${m.tail}`) }, 'invalid_signature_saml_response');
      });

      it('the signed assertion nested inside the evil one (in its Advice): missing_signature_saml_response', async () => {
        const m = await mallorys(acme);
        const evil = m.evil.replace(`ID="${m.id}"`, 'ID="_evil"').replace('</saml:Issuer>', `</saml:Issuer><saml:Advice>${m.signed}</saml:Advice>`);
        await expectRefused(acme, { ...m.form, SAMLResponse: base64Of(`${m.head}${evil}${m.tail}`) }, 'missing_signature_saml_response');
      });

      it('a comment inside the signed NameID and email does not cut them short: the whole signed address signs in', async () => {
        const form = await answer(initech, { user: LONG_ANN.email });
        const injected = xmlOf(form.SAMLResponse).replaceAll(`>${LONG_ANN.email}<`, `>${ANN.email}<!---->.evil.test<`);
        expect(injected).toContain('ann@acme.example<!---->.evil.test');
        const token = await expectAccepted(initech, { ...form, SAMLResponse: base64Of(injected) });
        const response = await server.client.sso.authenticate({ sso_token: token, session_duration_minutes: 60 });
        expect(response.member.email_address).toBe(LONG_ANN.email);
        expect(response.member.sso_registrations[0]?.external_id).toBe(LONG_ANN.email);
      });
    });

    describe('audience, recipient, issuer and time', () => {
      it('refuses an assertion for another audience: invalid_audience_saml_response', async () => {
        await expectRefused(acme, await answer(acme, { audience: globex.acsUrl }), 'invalid_audience_saml_response');
      });

      it('refuses an assertion for another recipient: invalid_audience_saml_response', async () => {
        await expectRefused(acme, await answer(acme, { recipient: globex.acsUrl }), 'invalid_audience_saml_response');
      });

      it("refuses a Response sent to another connection's ACS (Destination): invalid_audience_saml_response", async () => {
        await expectRefused(acme, await answer(acme, { destination: globex.acsUrl }), 'invalid_audience_saml_response');
      });

      it('refuses an assertion of another issuer, even signed with the trusted key: invalid_saml_response', async () => {
        await expectRefused(acme, await answer(acme, { issuer: 'https://evil.example/idp' }), 'invalid_saml_response');
      });

      it('refuses an expired assertion (NotOnOrAfter more than 60 s ago): expired_saml_response; accepts one within the skew', async () => {
        const now = Date.now();
        await expectRefused(acme, await answer(acme, { notBefore: new Date(now - 10 * MINUTE), notOnOrAfter: new Date(now - 2 * MINUTE) }), 'expired_saml_response');
        await expectAccepted(acme, await answer(acme, { notBefore: new Date(now - 10 * MINUTE), notOnOrAfter: new Date(now - 30_000) }));
      });

      it('refuses an assertion not valid yet (NotBefore more than 60 s ahead): not_yet_valid_saml_response; accepts one within the skew', async () => {
        const now = Date.now();
        await expectRefused(acme, await answer(acme, { notBefore: new Date(now + 5 * MINUTE), notOnOrAfter: new Date(now + 10 * MINUTE) }), 'not_yet_valid_saml_response');
        await expectAccepted(acme, await answer(acme, { notBefore: new Date(now + 30_000), notOnOrAfter: new Date(now + 10 * MINUTE) }));
      });

      it('refuses a response saying the sign-in failed: failed_saml_response', async () => {
        const body = await expectRefused(acme, await answer(acme, { status: 'urn:oasis:names:tc:SAML:2.0:status:Responder' }), 'failed_saml_response');
        expect(body.error_message).toContain('urn:oasis:names:tc:SAML:2.0:status:Responder');
      });

      it('refuses an assertion with no email address (NameID no address, no email attribute): invalid_saml_response_email', async () => {
        await expectRefused(acme, await answer(acme, { nameId: 'employee-4711', attributes: { firstName: ['Ann'] } }), 'invalid_saml_response_email');
      });
    });

    describe('requests, replays and other organizations', () => {
      it('refuses the same response posted twice: the sign-in was finished (expired_saml_response); with a fresh sign-in it answers no request of it (unsolicited_saml_response)', async () => {
        const form = await answer(acme);
        await expectAccepted(acme, form);
        await expectRefused(acme, form, 'expired_saml_response');
        const fresh = await started(acme);
        await expectRefused(acme, { ...form, RelayState: fresh.relayState }, 'unsolicited_saml_response');
      });

      it('refuses an IdP-initiated assertion used twice: duplicate_saml_response', async () => {
        const SAMLResponse = await idp.issueResponse({ serviceProvider: initech.acsUrl, user: ANN.email });
        await expectAccepted(initech, { SAMLResponse });
        await expectRefused(initech, { SAMLResponse }, 'duplicate_saml_response');
      });

      it('two concurrent posts of the same response (SP- and IdP-initiated): exactly one token', async () => {
        const probe = await openDatabaseProbe(server);
        try {
          const cases = [
            { setup: acme, form: await answer(acme) },
            { setup: initech, form: { SAMLResponse: await idp.issueResponse({ serviceProvider: initech.acsUrl, user: ANN.email }) } },
          ];
          for (const { setup, form } of cases) {
            const before = (await probe.values('sso_tokens', 'token_id')).length;
            const answers = await Promise.all([postToAcs(setup.acsUrl, form), postToAcs(setup.acsUrl, form)]);
            expect(answers.map((each) => each.status).sort()).toEqual([303, 400]);
            expect((await probe.values('sso_tokens', 'token_id')).length).toBe(before + 1);
          }
        } finally {
          await probe.close();
        }
      });

      it("refuses a response naming another sign-in's AuthnRequest: unsolicited_saml_response", async () => {
        const first = await started(acme);
        const second = await started(acme);
        const SAMLResponse = await idp.issueResponse({ serviceProvider: acme.acsUrl, user: ANN.email, inResponseTo: first.requestId });
        await expectRefused(acme, { SAMLResponse, RelayState: second.relayState }, 'unsolicited_saml_response');
        // The Response names the right request, its signed assertion another.
        await expectRefused(acme, await answer(acme, { subjectInResponseTo: first.requestId }), 'unsolicited_saml_response');
      });

      it("refuses the RelayState of a sign-in at another organization's connection: unsolicited_saml_response", async () => {
        const elsewhere = await started(globex);
        const SAMLResponse = await idp.issueResponse({ serviceProvider: acme.acsUrl, user: ANN.email, inResponseTo: elsewhere.requestId });
        await expectRefused(acme, { SAMLResponse, RelayState: elsewhere.relayState }, 'unsolicited_saml_response');
      });

      it("refuses a response for another organization's connection posted here: invalid_audience_saml_response", async () => {
        const { requestId, relayState } = await started(acme);
        const SAMLResponse = await idp.issueResponse({ serviceProvider: globex.acsUrl, user: ANN.email, inResponseTo: requestId });
        await expectRefused(acme, { SAMLResponse, RelayState: relayState }, 'invalid_audience_saml_response');
      });

      it('refuses an IdP-initiated response where idp_initiated_auth_disabled is true: unsolicited_saml_response', async () => {
        await expectRefused(acme, { SAMLResponse: await idp.issueResponse({ serviceProvider: acme.acsUrl, user: ANN.email }) }, 'unsolicited_saml_response');
      });

      it('accepts an IdP-initiated response where it is allowed, onto the default signup URL; refuses there a response to a request without its RelayState (missing_saml_relay_state)', async () => {
        const accepted = await postToAcs(initech.acsUrl, { SAMLResponse: await idp.issueResponse({ serviceProvider: initech.acsUrl, user: MALLORY.email }) });
        expect(accepted.status, accepted.body).toBe(303);
        expect(accepted.location?.startsWith('http://localhost:3000/authenticate?stytch_token_type=sso&token=')).toBe(true);
        const { requestId } = await started(initech);
        await expectRefused(initech, { SAMLResponse: await idp.issueResponse({ serviceProvider: initech.acsUrl, user: ANN.email, inResponseTo: requestId }) }, 'missing_saml_relay_state');
      });
    });

    describe('encrypted assertions', () => {
      let encrypted: SamlSetup;
      let encryptionCertificate: string;

      beforeAll(async () => {
        encrypted = await createSamlConnection(server, idp, await createOrganization(server, 'encrypted-co'));
        const key = await newSamlKeyPair('Encrypted Co decryption key');
        await server.client.sso.saml.updateConnection({ organization_id: encrypted.organizationId, connection_id: encrypted.connectionId, saml_encryption_private_key: key.privateKeyPem });
        // The IdP encrypts to the certificate our metadata publishes for that key.
        const metadata = (await visit(`${server.baseUrl}/v1/b2b/sso/saml/metadata/${encrypted.connectionId}`)).body;
        const base64 = /<KeyDescriptor use="encryption">[\s\S]*?<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata)?.[1] ?? '';
        expect(base64).not.toBe('');
        encryptionCertificate = `-----BEGIN CERTIFICATE-----\n${base64.replace(/\s/g, '')}\n-----END CERTIFICATE-----\n`;
      });

      it('accepts a signed assertion encrypted to the uploaded key, and one encrypted to our signing certificate', async () => {
        const form = await answer(encrypted, { encryptTo: encryptionCertificate });
        expect(xmlOf(form.SAMLResponse)).toContain('EncryptedAssertion');
        expect(xmlOf(form.SAMLResponse)).not.toContain(ANN.email);
        const response = await server.client.sso.authenticate({ sso_token: await expectAccepted(encrypted, form), session_duration_minutes: 60 });
        expect(response.member.email_address).toBe(ANN.email);
        await expectAccepted(encrypted, await answer(encrypted, { encryptTo: encrypted.signingCertificatePem }));
      });

      it('refuses an assertion encrypted to another key, and an encrypted assertion that is not signed, alike: invalid_saml_response', async () => {
        const other = await newSamlKeyPair('Someone else');
        const first = await expectRefused(encrypted, await answer(encrypted, { encryptTo: other.certificatePem }), 'invalid_saml_response');
        const second = await expectRefused(encrypted, await answer(encrypted, { encryptTo: encryptionCertificate, sign: 'none' }), 'invalid_saml_response');
        expect(second.error_message).toBe(first.error_message);
      });
    });

    describe('malformed posts', () => {
      it('refuses a post without SAMLResponse: missing_saml_response', async () => {
        const { relayState } = await started(acme);
        await expectRefused(acme, { RelayState: relayState }, 'missing_saml_response');
      });

      it('refuses a SAMLResponse that is not base64, not XML, or declares entities: invalid_xml_saml_response', async () => {
        const { relayState } = await started(acme);
        await expectRefused(acme, { SAMLResponse: 'not base64 at all!', RelayState: relayState }, 'invalid_xml_saml_response');
        await expectRefused(acme, { SAMLResponse: base64Of('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><unclosed>'), RelayState: relayState }, 'invalid_xml_saml_response');
        const bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>';
        await expectRefused(acme, { SAMLResponse: base64Of(bomb), RelayState: relayState }, 'invalid_xml_saml_response');
        await expectRefused(acme, { SAMLResponse: base64Of('<LogoutResponse/>'), RelayState: relayState }, 'invalid_xml_saml_response');
      });

      it('refuses an unknown RelayState: missing_saml_relay_state', async () => {
        await expectRefused(acme, { SAMLResponse: (await answer(acme)).SAMLResponse, RelayState: 'not-a-sign-in' }, 'missing_saml_relay_state');
      });

      it('answers 404 sso_connection_not_found at the ACS of no connection, auditing nothing (nobody to alert)', async () => {
        const probe = await openRecordProbe(server);
        try {
          const response = await probe.expectOnlyRecords([], () =>
            visit(`${server.baseUrl}/v1/b2b/sso/callback/saml-connection-test-00000000-0000-4000-8000-000000000000`, { SAMLResponse: 'x' }),
          );
          expect(response.status).toBe(404);
          expect(JSON.parse(response.body)).toMatchObject({ status_code: 404, error_type: 'sso_connection_not_found' });
        } finally {
          await probe.close();
        }
      });

      it('refuses a response with more elements or deeper nesting than any SAML response has, before any signature work (node-saml\'s XPath is quadratic in the element count)', async () => {
        const wide = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_w" Version="2.0"><saml:Assertion ID="_a">${'<b/>'.repeat(43_000)}</saml:Assertion></samlp:Response>`;
        const deep = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_d" Version="2.0">${'<x>'.repeat(60)}${'</x>'.repeat(60)}</samlp:Response>`;
        for (const [xml, why] of [
          [wide, 'elements'],
          [deep, 'deep'],
        ] as const) {
          // Posted with a real RelayState, as the answer to a sign-in anyone may start: the costly path.
          const { relayState } = await started(acme);
          const response = await visit(acme.acsUrl, { SAMLResponse: Buffer.from(xml).toString('base64'), RelayState: relayState });
          expect(response.status, response.body).toBe(400);
          const body = JSON.parse(response.body) as Record<string, unknown>;
          expect(body.error_type).toBe('invalid_xml_saml_response');
          expect(body.error_message).toContain(why);
        }
      });

      it('refuses a body over 256 KiB before reading it: 413, nothing written', async () => {
        const probe = await openRecordProbe(server);
        try {
          const response = await probe.expectOnlyRecords([], () => visit(acme.acsUrl, { SAMLResponse: 'A'.repeat(300 * 1024) }));
          expect(response.status).toBe(413);
          expect(JSON.parse(response.body)).toMatchObject({ status_code: 413 });
        } finally {
          await probe.close();
        }
      });
    });

    it('the browser walk still signs Ann in after all of that', async () => {
      const { acs } = await signInThroughIdp(server, acme.connectionId, ANN);
      expect(acs.status, acs.body).toBe(303);
    });
  });
}
