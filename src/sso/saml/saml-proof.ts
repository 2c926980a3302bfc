import { isDomainError } from '../../domain/common/domain-error.js';
import { normalizeEmail } from '../../domain/members/member.js';
import { ssoError } from '../../domain/sso/errors.js';
import type { SamlConnection } from '../../domain/sso/sso-connection.js';
import type { SsoProof } from '../../domain/sso/sso-request.js';
import type { CheckedAssertion } from './saml-assertion.js';

/** The attribute_mapping value that names the assertion's NameID rather than an attribute. */
const NAME_ID = 'NameID';

/**
 * Who a checked assertion says signed in, through the connection's attribute_mapping: the subject
 * is the NameID; the email address is the mapped `email` attribute when the IdP asserted it, else
 * the NameID when it is an address (refused with `invalid_saml_response_email` otherwise); the name
 * is `full_name` (or `name`), else `first_name` and `last_name`; the groups are every value of the
 * mapped `groups` attribute. Every attribute asserted is kept, a single value as a string.
 */
export function samlProofOf(connection: SamlConnection, assertion: CheckedAssertion): SsoProof {
  const mapping = connection.attributeMapping;
  const values = (key: string): readonly string[] => {
    const name = mapping[key];
    if (name === undefined || name === '') return [];
    if (name === NAME_ID) return [assertion.subject];
    return (assertion.attributes.get(name) ?? []).filter((value) => value !== '');
  };
  const first = (key: string): string => values(key)[0] ?? '';
  const mappedEmail = first('email');
  const emailAddress = emailOf(mappedEmail !== '' ? mappedEmail : assertion.subject);
  if (emailAddress === undefined) throw ssoError('invalid_saml_response_email');
  const fullName = first('full_name') || first('name');
  const name = fullName !== '' ? fullName : [first('first_name'), first('last_name')].filter((part) => part !== '').join(' ');
  // fromEntries defines own properties: an attribute named `__proto__` stays an attribute.
  const attributes: Record<string, string | readonly string[]> = Object.fromEntries(
    [...assertion.attributes].map(([attribute, asserted]) => [attribute, asserted.length === 1 && asserted[0] !== undefined ? asserted[0] : asserted]),
  );
  return {
    protocol: 'saml',
    connectionId: connection.connectionId,
    subject: assertion.subject,
    emailAddress,
    name,
    groups: [...new Set(values('groups'))],
    attributes,
  };
}

/** The address in the form members are stored in, or undefined when the value is no address. */
function emailOf(value: string): string | undefined {
  try {
    return normalizeEmail(value);
  } catch (error) {
    if (isDomainError(error)) return undefined;
    throw error;
  }
}
