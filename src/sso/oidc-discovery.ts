import { ssoError } from '../domain/sso/errors.js';
import { type IdpFetch, IdpRequestError } from './idp-http.js';

/** The endpoints an OIDC connection takes from its issuer's discovery document. */
export interface OidcEndpoints {
  readonly authorizationUrl: string;
  readonly tokenUrl: string;
  /** '' when the issuer publishes none (OIDC Discovery only recommends it). */
  readonly userinfoUrl: string;
  readonly jwksUrl: string;
}

/**
 * Reads `<issuer>/.well-known/openid-configuration` through the IdP fetch (SSRF rules, time and size
 * limits, no redirects). The document must name exactly this issuer, character for character (a
 * document naming another could hand out another issuer's endpoints and keys, and ID tokens' `iss`
 * is compared with it), and give absolute http(s) endpoints; anything else is `invalid_issuer`,
 * saying why.
 */
export async function discoverOidcEndpoints(fetch: IdpFetch, issuer: string): Promise<OidcEndpoints> {
  const invalid = (why: string) => ssoError('invalid_issuer', `The issuer's discovery document ${why}.`);
  const url = `${issuer.endsWith('/') ? issuer.slice(0, -1) : issuer}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' } });
  } catch (error) {
    if (error instanceof IdpRequestError) throw ssoError('invalid_issuer', `The issuer's discovery document (${url.slice(0, 300)}) could not be fetched: it ${error.message}.`);
    throw error;
  }
  if (response.status < 200 || response.status >= 300) throw invalid(`(${url.slice(0, 300)}) answered HTTP ${response.status}, not 2xx (redirects are not followed)`);
  let document: unknown;
  try {
    document = JSON.parse(await response.text());
  } catch {
    throw invalid('is not JSON');
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw invalid('is not a JSON object');
  const fields = document as Record<string, unknown>;
  if (fields.issuer !== issuer) throw invalid(`names another issuer (${typeof fields.issuer === 'string' ? JSON.stringify(fields.issuer.slice(0, 300)) : 'none'}), not ${JSON.stringify(issuer)}`);
  const endpoint = (name: string, required: boolean): string => {
    const value = fields[name];
    if (value === undefined && !required) return '';
    if (typeof value !== 'string' || !isAbsoluteHttpUrl(value)) throw invalid(`gives no absolute http(s) ${name}`);
    return value;
  };
  return {
    authorizationUrl: endpoint('authorization_endpoint', true),
    tokenUrl: endpoint('token_endpoint', true),
    userinfoUrl: endpoint('userinfo_endpoint', false),
    jwksUrl: endpoint('jwks_uri', true),
  };
}

function isAbsoluteHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
