import { ssoError } from '../../domain/sso/errors.js';
import { ELEMENT_NODE, parseXmlDocument, type XmlElement } from './xml-dom.js';

export const SAMLP_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

/**
 * Parses XML an IdP (or anyone posting to the ACS) sent and answers its root element, refused with
 * `invalid_xml_saml_response` when it is not well-formed. A document type declaration is refused
 * outright: SAML never needs one, and entity declarations are how XML bombs and external entities
 * get in.
 */
export function parseSamlXml(xml: string): XmlElement {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw ssoError('invalid_xml_saml_response', 'The SAMLResponse holds a document type declaration, which SAML never needs.');
  const root = parseXmlDocument(xml)?.documentElement;
  if (root === null || root === undefined) throw ssoError('invalid_xml_saml_response');
  return root;
}

/** The element children of `parent` with this local name in this namespace, in document order. */
export function childElements(parent: XmlElement, localName: string, namespace: string): XmlElement[] {
  const found: XmlElement[] = [];
  const children = parent.childNodes;
  for (let index = 0; index < children.length; index += 1) {
    const node = children.item(index);
    if (node?.nodeType === ELEMENT_NODE) {
      const element = node as XmlElement;
      if (element.localName === localName && element.namespaceURI === namespace) found.push(element);
    }
  }
  return found;
}

export function firstChildElement(parent: XmlElement, localName: string, namespace: string): XmlElement | undefined {
  return childElements(parent, localName, namespace)[0];
}

/** The element's text, trimmed (IdPs pretty-print their XML). */
export function textOf(element: XmlElement | undefined): string {
  return (element?.textContent ?? '').trim();
}

/** An attribute's value, or '' when it is absent. */
export function attributeOf(element: XmlElement | undefined, name: string): string {
  return element?.getAttribute(name) ?? '';
}
