import { createRequire } from 'node:module';

/**
 * The part of the DOM that reading SAML responses and IdP metadata needs, over @xmldom/xmldom (the parser node-saml and
 * xml-crypto use, so every reader sees the same tree). Its own type declarations pull the browser's
 * DOM library into the whole compilation, where it contradicts Node's `fetch` types; these few
 * interfaces describe exactly what this code touches instead.
 */
export interface XmlNode {
  readonly nodeType: number;
  readonly textContent: string | null;
  readonly firstChild: XmlNode | null;
  readonly nextSibling: XmlNode | null;
}

export interface XmlElement extends XmlNode {
  readonly localName: string | null;
  readonly namespaceURI: string | null;
  readonly childNodes: { readonly length: number; item(index: number): XmlNode | null };
  getAttribute(name: string): string | null;
  getElementsByTagNameNS(namespace: string, localName: string): ArrayLike<XmlElement>;
}

export interface XmlDocument extends XmlNode {
  readonly documentElement: XmlElement | null;
}

interface XmldomModule {
  DOMParser: new (options: {
    locator: object;
    errorHandler: { warning: (message: string) => void; error: (message: string) => void; fatalError: (message: string) => void };
  }) => { parseFromString(source: string, mimeType: string): XmlDocument };
  XMLSerializer: new () => { serializeToString(node: XmlNode): string };
}

const xmldom = createRequire(import.meta.url)('@xmldom/xmldom') as XmldomModule;

export const ELEMENT_NODE = 1;

/** Parses `source`; undefined when the parser reports an error (warnings are ignored). */
export function parseXmlDocument(source: string): XmlDocument | undefined {
  let failed = false;
  const fail = (): void => {
    failed = true;
  };
  try {
    const document = new xmldom.DOMParser({ locator: {}, errorHandler: { warning: () => {}, error: fail, fatalError: fail } }).parseFromString(source, 'text/xml');
    return failed ? undefined : document;
  } catch {
    return undefined;
  }
}

export function serializeXml(node: XmlNode): string {
  return new xmldom.XMLSerializer().serializeToString(node);
}

/** The element children of `parent` with this local name in this namespace, in document order. */
export function childElements(parent: XmlElement, localName: string, namespace: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (let node = parent.firstChild; node !== null; node = node.nextSibling) {
    if (node.nodeType !== ELEMENT_NODE) continue;
    const element = node as XmlElement;
    if (element.localName === localName && element.namespaceURI === namespace) found.push(element);
  }
  return found;
}
