import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/domain/common/domain-error.js';
import { type AssertionExpectations, checkAssertion, SAML_CLOCK_SKEW_MS } from '../../src/sso/saml/saml-assertion.js';
import { parseSamlXml } from '../../src/sso/saml/saml-xml.js';

/**
 * The profile checks Understudy makes on a signed assertion (src/sso/saml/saml-assertion.ts), on
 * shapes the test IdP never sends: several confirmations or audience restrictions. The signature
 * itself, and the common cases, are tested end to end in tests/integration/sso/saml-*.test.ts.
 */
const NOW = new Date('2026-03-01T12:00:00Z');
const ACS = 'https://auth.example.com/v1/b2b/sso/callback/saml-connection-test-1';
const EXPECTED: AssertionExpectations = { idpEntityId: 'https://idp.example.com', audiences: [ACS, 'urn:alternative'], recipients: [ACS], inResponseTo: '_request', now: NOW };
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

function at(minutes: number): string {
  return new Date(NOW.getTime() + minutes * 60_000).toISOString();
}

function confirmation(options: { method?: string; recipient?: string; until: number; inResponseTo?: string }): string {
  return `<saml:SubjectConfirmation Method="${options.method ?? BEARER}"><saml:SubjectConfirmationData Recipient="${options.recipient ?? ACS}" NotOnOrAfter="${at(options.until)}" InResponseTo="${options.inResponseTo ?? '_request'}"/></saml:SubjectConfirmation>`;
}

function assertion(options: { confirmations: string[]; audiences?: string[][]; conditionsUntil?: number }): string {
  const restrictions = (options.audiences ?? [[ACS]]).map((names) => `<saml:AudienceRestriction>${names.map((name) => `<saml:Audience>${name}</saml:Audience>`).join('')}</saml:AudienceRestriction>`).join('');
  return `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" Version="2.0" IssueInstant="${at(0)}"><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID>ann@acme.example</saml:NameID>${options.confirmations.join('')}</saml:Subject><saml:Conditions NotBefore="${at(-1)}" NotOnOrAfter="${at(options.conditionsUntil ?? 60)}">${restrictions}</saml:Conditions></saml:Assertion>`;
}

function refusal(xml: string, expected: AssertionExpectations = EXPECTED): string {
  try {
    checkAssertion(parseSamlXml(xml), expected);
  } catch (error) {
    if (isDomainError(error)) return error.code;
    throw error;
  }
  throw new Error('accepted');
}

describe('checkAssertion', () => {
  it('accepts when one bearer confirmation holds, and remembers the assertion until the latest confirmation could hold (bounded by Conditions)', () => {
    const checked = checkAssertion(parseSamlXml(assertion({ confirmations: [confirmation({ recipient: 'https://elsewhere', until: 5 }), confirmation({ until: 3 }), confirmation({ until: 20 })] })), EXPECTED);
    expect(checked.subject).toBe('ann@acme.example');
    expect(checked.acceptableUntil.getTime()).toBe(NOW.getTime() + 20 * 60_000 + SAML_CLOCK_SKEW_MS);
    const bounded = checkAssertion(parseSamlXml(assertion({ confirmations: [confirmation({ until: 20 })], conditionsUntil: 10 })), EXPECTED);
    expect(bounded.acceptableUntil.getTime()).toBe(NOW.getTime() + 10 * 60_000 + SAML_CLOCK_SKEW_MS);
  });

  it("answers the first bearer confirmation's failure when none holds, and ignores other methods", () => {
    expect(refusal(assertion({ confirmations: [confirmation({ recipient: 'https://elsewhere', until: 5 }), confirmation({ until: -5 })] }))).toBe('invalid_audience_saml_response');
    expect(refusal(assertion({ confirmations: [confirmation({ until: -5 }), confirmation({ recipient: 'https://elsewhere', until: 5 })] }))).toBe('expired_saml_response');
    expect(refusal(assertion({ confirmations: [confirmation({ method: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key', until: 5 })] }))).toBe('invalid_saml_response');
    expect(refusal(assertion({ confirmations: [confirmation({ until: 5, inResponseTo: '_other' })] }))).toBe('unsolicited_saml_response');
    expect(refusal(assertion({ confirmations: [confirmation({ until: 5 })] }), { ...EXPECTED, inResponseTo: '' })).toBe('missing_saml_relay_state');
  });

  it('needs every AudienceRestriction to name one of the connection audiences (the alternative one counts)', () => {
    const ok = [confirmation({ until: 5 })];
    expect(checkAssertion(parseSamlXml(assertion({ confirmations: ok, audiences: [['urn:other', 'urn:alternative']] })), EXPECTED).id).toBe('_a1');
    expect(refusal(assertion({ confirmations: ok, audiences: [[ACS], ['urn:other']] }))).toBe('invalid_audience_saml_response');
    expect(refusal(assertion({ confirmations: ok, audiences: [] }))).toBe('invalid_audience_saml_response');
  });

  it('allows 60 seconds of skew on NotOnOrAfter, and no more', () => {
    const justPast = assertion({ confirmations: [confirmation({ until: -0.9 })] });
    expect(checkAssertion(parseSamlXml(justPast), EXPECTED).id).toBe('_a1');
    expect(refusal(assertion({ confirmations: [confirmation({ until: -1 })] }))).toBe('expired_saml_response');
  });
});
