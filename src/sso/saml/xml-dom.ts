import { createRequire } from 'node:module';

/**
 * The part of the DOM that reading SAML needs, over @xmldom/xmldom (the parser node-saml and
 * xml-crypto use, so every reader sees the same tree). Its own type declarations pull the browser's
 * DOM library into the whole compilation, where it contradicts Node's `fetch` types; these few
 * interfaces describe exactly what this code touches instead.
 */
export interface XmlNode {
  readonly nodeType: number;
  readonly textContent: string | null;
}

export interface XmlElement extends XmlNode {
  readonly localName: string | null;
  readonly namespaceURI: string | null;
  readonly childNodes: { readonly length: number; item(index: number): XmlNode | null };
  getAttribute(name: string): string | null;
}

export interface XmlDocument {
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
