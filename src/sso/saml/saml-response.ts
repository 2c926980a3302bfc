import { SamlStatusError } from '@node-saml/node-saml';
import xmlEncryption from 'xml-encryption';
import type { DomainError } from '../../domain/common/domain-error.js';
import { ssoError } from '../../domain/sso/errors.js';
import { childElements, serializeXml, type XmlElement } from '../xml-dom.js';
import { attributeOf, DSIG_NS, firstChildElement, parseSamlXml, SAML_NS, SAMLP_NS, textOf } from './saml-xml.js';

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const STATUS_CODE = /^urn:oasis:names:tc:SAML:2\.0:status:[A-Za-z]{1,64}$/;

/**
 * One refusal for every way an encrypted assertion can fail before its signature is verified
 * (undecryptable, not XML once decrypted, not signed, signed wrongly): telling them apart would
 * let anyone who can post to the ACS use it as a decryption oracle against AES-CBC ciphertexts.
 */
const ENCRYPTED_ASSERTION_REFUSED = "The encrypted SAML assertion could not be decrypted and verified with this connection's keys.";

/** What the Response element itself must say (its own attributes are not necessarily signed: these only refuse, never accept). */
export interface ResponseExpectations {
  readonly idpEntityId: string;
  readonly recipients: readonly string[];
  /** The AuthnRequest's ID; '' for an IdP-initiated answer. */
  readonly inResponseTo: string;
}

export interface ReadResponse {
  /** The SAMLResponse as node-saml takes it. */
  readonly base64: string;
  readonly encryptedAssertion: XmlElement | undefined;
  /** Finds which of `keys` decrypts the assertion and answers it (refused when none does). */
  decrypt(keys: readonly string[]): Promise<string>;
  /** Whether the assertion node-saml checked carries a signature of its own (missing vs. invalid). */
  readonly assertionSigned: boolean;
}

/**
 * Decodes and parses a posted SAMLResponse and makes the checks that need no key: well-formed XML
 * of a samlp:Response (`missing_saml_response`, `invalid_xml_saml_response`), status Success
 * (`failed_saml_response`), the Response's InResponseTo, Destination and Issuer.
 */
export function readSamlResponse(encoded: string | undefined, expected: ResponseExpectations): ReadResponse {
  if (encoded === undefined || encoded.trim() === '') throw ssoError('missing_saml_response');
  // Some IdPs wrap the base64 in lines.
  const base64 = encoded.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) throw ssoError('invalid_xml_saml_response', 'The SAMLResponse is not base64.');
  const response = parseSamlXml(Buffer.from(base64, 'base64').toString('utf8'));
  if (response.localName !== 'Response' || response.namespaceURI !== SAMLP_NS) throw ssoError('invalid_xml_saml_response', 'The SAMLResponse is not a SAML protocol Response.');
  checkStatus(response);
  const inResponseTo = attributeOf(response, 'InResponseTo');
  if (inResponseTo !== expected.inResponseTo) {
    if (expected.inResponseTo === '') throw ssoError('missing_saml_relay_state', 'The SAML response answers an AuthnRequest, but no RelayState came with it.');
    throw ssoError('unsolicited_saml_response', "The SAML response's InResponseTo is not the ID of the AuthnRequest this sign-in sent.");
  }
  const destination = attributeOf(response, 'Destination');
  if (destination !== '' && !expected.recipients.includes(destination)) throw ssoError('invalid_audience_saml_response', "The SAML response's Destination is not this connection's ACS URL.");
  const issuer = firstChildElement(response, 'Issuer', SAML_NS);
  if (issuer !== undefined && textOf(issuer) !== expected.idpEntityId) throw ssoError('invalid_saml_response', "The SAML response's Issuer is not the connection's idp_entity_id.");
  const assertions = childElements(response, 'Assertion', SAML_NS);
  const encryptedAssertion = childElements(response, 'EncryptedAssertion', SAML_NS)[0];
  return {
    base64,
    encryptedAssertion,
    assertionSigned: assertions.length === 1 && assertions[0] !== undefined && childElements(assertions[0], 'Signature', DSIG_NS).length > 0,
    decrypt: async (keys) => {
      if (encryptedAssertion === undefined) throw new Error('no encrypted assertion');
      const xml = serializeXml(encryptedAssertion);
      for (const key of keys) {
        if (await decryptsWith(xml, key)) return key;
      }
      throw ssoError('invalid_saml_response', ENCRYPTED_ASSERTION_REFUSED);
    },
  };
}

function checkStatus(response: XmlElement): void {
  const status = firstChildElement(response, 'Status', SAMLP_NS);
  const code = status === undefined ? undefined : firstChildElement(status, 'StatusCode', SAMLP_NS);
  const value = attributeOf(code, 'Value');
  if (value === SUCCESS) return;
  if (code === undefined) throw ssoError('invalid_saml_response', 'The SAML response has no Status.');
  // The IdP's own codes (Responder, AuthnFailed…) help whoever reads the refusal; other text is not repeated.
  const codes = [value, attributeOf(firstChildElement(code, 'StatusCode', SAMLP_NS), 'Value')].filter((text) => STATUS_CODE.test(text));
  throw ssoError('failed_saml_response', codes.length === 0 ? undefined : `The identity provider answered that the sign-in failed (${codes.join(', ')}).`);
}

/** Whether the key decrypts the assertion into an Assertion; the insecure algorithms (RSA PKCS#1 v1.5, 3DES) are refused. */
async function decryptsWith(xml: string, key: string): Promise<boolean> {
  const plaintext = await new Promise<string | undefined>((resolve) => {
    xmlEncryption.decrypt(xml, { key, disallowDecryptionWithInsecureAlgorithm: true, warnInsecureAlgorithm: false }, (error, result) => resolve(error === null ? result : undefined));
  });
  if (plaintext === undefined) return false;
  try {
    const root = parseSamlXml(plaintext);
    return root.localName === 'Assertion' && root.namespaceURI === SAML_NS;
  } catch {
    return false;
  }
}

/**
 * node-saml's refusal as the Stytch code saying why. Its messages are the only thing it tells
 * apart; anything not recognised is `invalid_saml_response` (never a 500: the input was bad).
 */
export function refusalOf(error: unknown, response: Pick<ReadResponse, 'encryptedAssertion' | 'assertionSigned'>): DomainError {
  if (error instanceof SamlStatusError) return ssoError('failed_saml_response');
  const message = error instanceof Error ? error.message : '';
  if (/InResponseTo/i.test(message)) return ssoError('unsolicited_saml_response');
  if (/signature|signed data/i.test(message)) {
    if (response.encryptedAssertion !== undefined) return ssoError('invalid_saml_response', ENCRYPTED_ASSERTION_REFUSED);
    if (/multiple assertions/.test(message)) return ssoError('invalid_signature_saml_response', 'The SAML response holds more than one assertion.');
    return response.assertionSigned ? ssoError('invalid_signature_saml_response') : ssoError('missing_signature_saml_response');
  }
  if (/Missing SAML assertion/.test(message)) return ssoError('invalid_saml_response', 'The SAML response holds no assertion.');
  if (/Error parsing/.test(message)) return ssoError('invalid_saml_response', 'The SAML assertion lacks a valid IssueInstant or NotOnOrAfter.');
  if (/EncryptedAssertion|decrypt/i.test(message)) return ssoError('invalid_saml_response', ENCRYPTED_ASSERTION_REFUSED);
  return ssoError('invalid_saml_response');
}
