import { ssoError } from '../../domain/sso/errors.js';
import { childElements, ELEMENT_NODE, parseXmlDocument, type XmlElement } from '../xml-dom.js';

export const SAMLP_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

/**
 * The most elements and the deepest nesting a SAML response may have. A real one has a few dozen
 * elements (a few hundred with many attributes or groups) and nests about ten deep. The limits
 * matter because the XPath library node-saml, xml-crypto and xml-encryption use grows quadratically
 * with the element count, before any signature is checked: 40,000 sibling elements, posted by
 * anyone within the body limit, would hold the event loop for tens of seconds.
 */
export const MAX_SAML_ELEMENTS = 2_000;
export const MAX_SAML_DEPTH = 50;

/**
 * Parses XML an IdP (or anyone posting to the ACS) sent and answers its root element, refused with
 * `invalid_xml_saml_response` when it is not well-formed, or larger or deeper than a SAML response
 * ever is. A document type declaration is refused outright: SAML never needs one, and entity
 * declarations are how XML bombs and external entities get in.
 */
export function parseSamlXml(xml: string): XmlElement {
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) throw ssoError('invalid_xml_saml_response', 'The SAMLResponse holds a document type declaration, which SAML never needs.');
  const root = parseXmlDocument(xml)?.documentElement;
  if (root === null || root === undefined) throw ssoError('invalid_xml_saml_response');
  checkShape(root);
  return root;
}

/** Counts elements and depth without recursion (a deep document must not exhaust the stack). */
function checkShape(root: XmlElement): void {
  const pending: { element: XmlElement; depth: number }[] = [{ element: root, depth: 1 }];
  let elements = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    elements += 1;
    if (elements > MAX_SAML_ELEMENTS) throw ssoError('invalid_xml_saml_response', `The SAML response has more than ${MAX_SAML_ELEMENTS} elements.`);
    if (next.depth > MAX_SAML_DEPTH) throw ssoError('invalid_xml_saml_response', `The SAML response nests elements more than ${MAX_SAML_DEPTH} deep.`);
    const children = next.element.childNodes;
    for (let index = 0; index < children.length; index += 1) {
      const node = children.item(index);
      if (node?.nodeType === ELEMENT_NODE) pending.push({ element: node as XmlElement, depth: next.depth + 1 });
    }
  }
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
