import { ssoError } from './errors.js';
import type { SsoProof } from './sso-request.js';

/** OpenID Connect's limit for `sub`, applied to SAML NameIDs too: a subject is an id, not a document. */
export const MAX_SUBJECT_LENGTH = 255;
const MAX_NAME_LENGTH = 1024;
const MAX_GROUPS = 1000;
const MAX_GROUP_LENGTH = 1024;
const INVISIBLE = /[\p{Cc}\p{Cf}]/u;
const INVISIBLE_ALL = /[\p{Cc}\p{Cf}]+/gu;

/**
 * What any identity provider asserted, made fit to store before a token is issued for it, whatever
 * the protocol: the subject must be a usable id (refused otherwise, as a malformed answer), and the
 * name and groups lose control and invisible formatting characters (a NUL cannot be stored in
 * PostgreSQL text, and a name shown in the console must not hide characters). The address was
 * checked by the protocol (normalizeEmail).
 */
export function checkedProof(proof: SsoProof): SsoProof {
  const { subject } = proof;
  if (subject === '' || subject.length > MAX_SUBJECT_LENGTH || INVISIBLE.test(subject)) {
    const message = `The identity provider's subject is empty, longer than ${MAX_SUBJECT_LENGTH} characters or contains control characters.`;
    throw proof.protocol === 'saml' ? ssoError('invalid_saml_response', message) : ssoError('id_token_invalid', message);
  }
  const visible = (text: string) => text.replace(INVISIBLE_ALL, ' ').replace(/\s+/g, ' ').trim();
  // Groups are matched exactly against implicit role assignments: only the invisible characters go.
  const groups = [...new Set(proof.groups.map((group) => group.replace(INVISIBLE_ALL, '').slice(0, MAX_GROUP_LENGTH)).filter((group) => group !== ''))].slice(0, MAX_GROUPS);
  return { ...proof, name: visible(proof.name).slice(0, MAX_NAME_LENGTH), groups };
}
