import { ssoError } from '../domain/sso/errors.js';
import { type IdpFetch, IdpRequestError } from './idp-http.js';
import { parseCertificate } from './x509.js';
import { DSIG_NS, SAMLP_NS } from './saml/saml-xml.js';
import { childElements, parseXmlDocument, type XmlElement } from './xml-dom.js';

const METADATA_NS = 'urn:oasis:names:tc:SAML:2.0:metadata';
/** The AuthnRequest goes by redirect when the IdP takes it (no page of ours in between), else by POST. */
const PREFERRED_BINDINGS = ['urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect', 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST'];

/** What a SAML connection takes from its IdP's metadata. */
export interface IdpMetadata {
  readonly entityId: string;
  readonly ssoUrl: string;
  /** The IdP's signing certificates, normalized PEM (x509.ts), without duplicates, in document order. */
  readonly certificates: string[];
}

/**
 * `sso.saml.updateByURL`: the IdP's metadata, fetched only through the IdP fetch (its SSRF rules,
 * time and size limits, no redirects followed). A URL that cannot be fetched or does not answer
 * 2xx is `invalid_saml_metadata_url`, saying why.
 */
export async function fetchIdpMetadata(fetch: IdpFetch, url: string): Promise<IdpMetadata> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
  } catch (error) {
    if (error instanceof IdpRequestError) throw ssoError('invalid_saml_metadata_url', `metadata_url ${error.message}.`);
    throw error;
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get('location');
    throw ssoError('invalid_saml_metadata_url', `metadata_url answered with a redirect (HTTP ${response.status}${location === null ? '' : ` to ${location.slice(0, 200)}`}), which is not followed: give the final URL.`);
  }
  if (response.status < 200 || response.status >= 300) throw ssoError('invalid_saml_metadata_url', `metadata_url answered HTTP ${response.status}, not 2xx.`);
  return parseIdpMetadata(await response.text());
}

/**
 * The first IdP in a SAML metadata document (an EntityDescriptor with an IDPSSODescriptor, alone or
 * inside an EntitiesDescriptor). A DOCTYPE is refused outright: metadata never needs one, and
 * entity declarations are how XML external-entity and expansion attacks begin.
 */
export function parseIdpMetadata(xml: string): IdpMetadata {
  const notMetadata = (why: string) => ssoError('invalid_xml_from_saml_metadata_url', `The metadata URL's answer is not SAML IdP metadata: ${why}.`);
  const invalid = (why: string) => ssoError('saml_connection_metadata_invalid_format', `The SAML metadata ${why}.`);
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw notMetadata('it declares a DOCTYPE or entities, which are refused');
  const document = parseXmlDocument(xml);
  if (document === undefined) throw notMetadata('it is not well-formed XML');
  const root = document.documentElement;
  if (root === null || root.namespaceURI !== METADATA_NS || (root.localName !== 'EntityDescriptor' && root.localName !== 'EntitiesDescriptor')) {
    throw notMetadata('its root is no md:EntityDescriptor or md:EntitiesDescriptor');
  }
  const candidates = root.localName === 'EntityDescriptor' ? [root] : Array.from(root.getElementsByTagNameNS(METADATA_NS, 'EntityDescriptor'));
  let descriptors: XmlElement[] = [];
  let entity: XmlElement | undefined;
  for (const candidate of candidates) {
    descriptors = children(candidate, 'IDPSSODescriptor');
    if (descriptors.length > 0) {
      entity = candidate;
      break;
    }
  }
  if (entity === undefined) throw notMetadata('it describes no identity provider (no md:IDPSSODescriptor)');

  const entityId = (entity.getAttribute('entityID') ?? '').trim();
  if (entityId === '') throw invalid('has no entityID');
  // A descriptor for SAML 1.x alone is of no use to a SAML 2.0 service provider.
  const idp = descriptors.find((descriptor) => (descriptor.getAttribute('protocolSupportEnumeration') ?? '').split(/\s+/).includes(SAMLP_NS));
  if (idp === undefined) throw invalid('describes no SAML 2.0 identity provider (protocolSupportEnumeration)');

  const services = children(idp, 'SingleSignOnService');
  let ssoUrl = '';
  for (const binding of PREFERRED_BINDINGS) {
    const service = services.find((each) => each.getAttribute('Binding') === binding && (each.getAttribute('Location') ?? '').trim() !== '');
    if (service !== undefined) {
      ssoUrl = (service.getAttribute('Location') ?? '').trim();
      break;
    }
  }
  if (ssoUrl === '') throw invalid('has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding');

  const certificates: string[] = [];
  for (const keyDescriptor of children(idp, 'KeyDescriptor')) {
    const use = keyDescriptor.getAttribute('use');
    if (use !== null && use !== '' && use !== 'signing') continue;
    for (const element of Array.from(keyDescriptor.getElementsByTagNameNS(DSIG_NS, 'X509Certificate'))) {
      const parsed = parseCertificate(element.textContent ?? '');
      if (parsed === undefined) throw invalid('holds a signing X509Certificate that is not a valid X.509 certificate');
      if (!certificates.includes(parsed.certificatePem)) certificates.push(parsed.certificatePem);
    }
  }
  if (certificates.length === 0) throw invalid('has no signing certificate (KeyDescriptor use="signing" with a ds:X509Certificate)');
  return { entityId, ssoUrl, certificates };
}

function children(parent: XmlElement, localName: string): XmlElement[] {
  return childElements(parent, localName, METADATA_NS);
}
