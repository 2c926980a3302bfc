import { ssoError } from '../../domain/sso/errors.js';
import { childElements, type XmlElement } from '../xml-dom.js';
import { attributeOf, firstChildElement, SAML_NS, textOf } from './saml-xml.js';

/**
 * How far the IdP's clock may be from ours when NotBefore and NotOnOrAfter are checked. One minute:
 * enough for servers kept in time by NTP, short enough that an expired assertion stays expired.
 */
export const SAML_CLOCK_SKEW_MS = 60_000;

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** What a signed assertion must say to be accepted by a connection. */
export interface AssertionExpectations {
  readonly idpEntityId: string;
  /** The connection's audience URI, and its alternative_audience_uri when set. */
  readonly audiences: readonly string[];
  /** The connection's ACS URL, and its alternative_acs_url when set. */
  readonly recipients: readonly string[];
  /** The ID of the AuthnRequest answered; '' for an IdP-initiated answer, which must answer none. */
  readonly inResponseTo: string;
  readonly now: Date;
}

export interface CheckedAssertion {
  readonly id: string;
  /** The NameID. */
  readonly subject: string;
  /** Every attribute asserted, by Name, with its values in order. */
  readonly attributes: ReadonlyMap<string, readonly string[]>;
  /** Until when this assertion could still be accepted: its earliest NotOnOrAfter plus the skew. */
  readonly acceptableUntil: Date;
}

/**
 * The checks of SAML's Web Browser SSO profile (saml-profiles 4.1.4.3) on an assertion whose
 * signature has been verified, read from the signed bytes only: its issuer is the connection's IdP;
 * its Conditions name our audience and hold now (with the skew); and one bearer
 * SubjectConfirmation names our ACS URL as Recipient, holds now, and answers the AuthnRequest we
 * sent (InResponseTo) or, IdP-initiated, none. The first failed check decides the refusal.
 */
export function checkAssertion(assertion: XmlElement, expected: AssertionExpectations): CheckedAssertion {
  const id = attributeOf(assertion, 'ID');
  if (id === '') throw ssoError('invalid_saml_response', 'The SAML assertion has no ID.');
  if (textOf(firstChildElement(assertion, 'Issuer', SAML_NS)) !== expected.idpEntityId) {
    throw ssoError('invalid_saml_response', "The SAML assertion's Issuer is not the connection's idp_entity_id.");
  }
  const now = expected.now.getTime();
  const conditions = childElements(assertion, 'Conditions', SAML_NS);
  if (conditions.length !== 1 || conditions[0] === undefined) throw ssoError('invalid_audience_saml_response', 'The SAML assertion must hold exactly one Conditions element naming its audience.');
  const conditionsUntil = checkWindow(conditions[0], now, false);
  checkAudience(conditions[0], expected.audiences);
  const subject = firstChildElement(assertion, 'Subject', SAML_NS);
  const nameId = textOf(subject === undefined ? undefined : firstChildElement(subject, 'NameID', SAML_NS));
  if (subject === undefined || nameId === '') throw ssoError('invalid_saml_response', 'The SAML assertion names no subject (a NameID).');
  const confirmedUntil = checkBearerConfirmation(subject, expected, now);
  const until = Math.min(confirmedUntil, conditionsUntil ?? Number.POSITIVE_INFINITY);
  return { id, subject: nameId, attributes: attributesOf(assertion), acceptableUntil: new Date(until + SAML_CLOCK_SKEW_MS) };
}

/** Checks NotBefore and NotOnOrAfter against now, with the skew; answers NotOnOrAfter (undefined when absent and not required). */
function checkWindow(element: XmlElement, now: number, notOnOrAfterRequired: boolean): number | undefined {
  const notBefore = instantOf(element, 'NotBefore');
  const notOnOrAfter = instantOf(element, 'NotOnOrAfter');
  if (notBefore !== undefined && now + SAML_CLOCK_SKEW_MS < notBefore) throw ssoError('not_yet_valid_saml_response');
  if (notOnOrAfter === undefined) {
    if (notOnOrAfterRequired) throw ssoError('invalid_saml_response', `The SAML assertion's ${element.localName} has no NotOnOrAfter.`);
    return undefined;
  }
  if (now - SAML_CLOCK_SKEW_MS >= notOnOrAfter) throw ssoError('expired_saml_response');
  return notOnOrAfter;
}

function instantOf(element: XmlElement, name: string): number | undefined {
  const value = attributeOf(element, name);
  if (value === '') return undefined;
  // xs:dateTime; SAML requires UTC. Date.parse would also take forms that are no dateTime at all.
  const parsed = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) throw ssoError('invalid_saml_response', `The SAML assertion's ${name} is not a valid time.`);
  return parsed;
}

/** Every AudienceRestriction must name one of our audiences (saml-core 2.5.1.4: all conditions must hold). */
function checkAudience(conditions: XmlElement, audiences: readonly string[]): void {
  const restrictions = childElements(conditions, 'AudienceRestriction', SAML_NS);
  if (restrictions.length === 0) throw ssoError('invalid_audience_saml_response', 'The SAML assertion names no audience (AudienceRestriction).');
  for (const restriction of restrictions) {
    const named = childElements(restriction, 'Audience', SAML_NS).map((audience) => textOf(audience));
    if (!named.some((audience) => audiences.includes(audience))) throw ssoError('invalid_audience_saml_response');
  }
}

/**
 * At least one bearer SubjectConfirmation must hold entirely; when none does, the first one's
 * failure is the answer (the one IdPs send). Answers the latest NotOnOrAfter of them all: until
 * then some confirmation of this assertion might still hold, so it must be remembered that long.
 */
function checkBearerConfirmation(subject: XmlElement, expected: AssertionExpectations, now: number): number {
  const bearers = childElements(subject, 'SubjectConfirmation', SAML_NS).filter((confirmation) => attributeOf(confirmation, 'Method') === BEARER);
  if (bearers.length === 0) throw ssoError('invalid_saml_response', 'The SAML assertion has no bearer SubjectConfirmation.');
  let firstFailure: unknown;
  let held = false;
  let latest = Number.NEGATIVE_INFINITY;
  for (const bearer of bearers) {
    const data = firstChildElement(bearer, 'SubjectConfirmationData', SAML_NS);
    const until = data === undefined ? undefined : safely(() => instantOf(data, 'NotOnOrAfter'));
    if (until !== undefined) latest = Math.max(latest, until);
    try {
      checkConfirmationData(data, expected, now);
      held = true;
    } catch (error) {
      firstFailure ??= error;
    }
  }
  if (!held) throw firstFailure;
  return latest;
}

function safely<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function checkConfirmationData(data: XmlElement | undefined, expected: AssertionExpectations, now: number): void {
  if (data === undefined) throw ssoError('invalid_audience_saml_response', 'The SAML assertion names no Recipient (SubjectConfirmationData).');
  if (!expected.recipients.includes(attributeOf(data, 'Recipient'))) {
    throw ssoError('invalid_audience_saml_response', "The SAML assertion's Recipient is not this connection's ACS URL.");
  }
  checkWindow(data, now, true);
  const inResponseTo = attributeOf(data, 'InResponseTo');
  if (inResponseTo !== expected.inResponseTo) {
    if (expected.inResponseTo === '') throw ssoError('missing_saml_relay_state', 'The SAML assertion answers an AuthnRequest, but no RelayState came with it.');
    throw ssoError('unsolicited_saml_response', "The SAML assertion's InResponseTo is not the ID of the AuthnRequest this sign-in sent.");
  }
}

function attributesOf(assertion: XmlElement): Map<string, string[]> {
  const attributes = new Map<string, string[]>();
  for (const statement of childElements(assertion, 'AttributeStatement', SAML_NS)) {
    for (const attribute of childElements(statement, 'Attribute', SAML_NS)) {
      const name = attributeOf(attribute, 'Name');
      if (name === '') continue;
      const values = childElements(attribute, 'AttributeValue', SAML_NS).map((value) => textOf(value));
      attributes.set(name, [...(attributes.get(name) ?? []), ...values]);
    }
  }
  return attributes;
}
