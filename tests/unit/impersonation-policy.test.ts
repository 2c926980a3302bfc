import { describe, expect, it } from 'vitest';
import type { ImpersonationPolicy } from '../../src/domain/impersonation/impersonation.js';
import { effectivePolicy, impersonationUrl, type ProjectImpersonationPolicy } from '../../src/domain/impersonation/impersonation-policy.js';

const PROJECT_ON: ProjectImpersonationPolicy = { enabled: true, redirectUrl: 'https://project.example/authenticate' };
const PROJECT_OFF: ProjectImpersonationPolicy = { enabled: false, redirectUrl: 'https://project.example/authenticate' };

function organization(overrides: Partial<ImpersonationPolicy> = {}): ImpersonationPolicy {
  return { organizationId: 'organization-test-1', enabled: true, accessMode: 'open', delegated: 'members', notifyMember: false, notifyAdmins: false, chosenByOrganization: false, redirectUrl: null, updatedAt: '2026-01-01T00:00:00Z', ...overrides };
}

describe('effectivePolicy', () => {
  it('allows impersonation when the project allows it and the organization never set a policy', () => {
    expect(effectivePolicy(PROJECT_ON, undefined)).toEqual({ enabled: true, disabledBy: null, redirectUrl: 'https://project.example/authenticate' });
  });

  it('allows impersonation when both the project and the organization allow it', () => {
    expect(effectivePolicy(PROJECT_ON, organization({ enabled: true }))).toMatchObject({ enabled: true, disabledBy: null });
  });

  it('is disabled by the organization when only the organization turned it off', () => {
    expect(effectivePolicy(PROJECT_ON, organization({ enabled: false }))).toMatchObject({ enabled: false, disabledBy: 'organization' });
  });

  it('is disabled by the project when the project turned it off, even if the organization allows it', () => {
    expect(effectivePolicy(PROJECT_OFF, organization({ enabled: true }))).toMatchObject({ enabled: false, disabledBy: 'project' });
    expect(effectivePolicy(PROJECT_OFF, undefined)).toMatchObject({ enabled: false, disabledBy: 'project' });
  });

  it('names the project, not the organization, when both turned it off', () => {
    expect(effectivePolicy(PROJECT_OFF, organization({ enabled: false }))).toMatchObject({ enabled: false, disabledBy: 'project' });
  });

  it("uses the organization's redirect URL over the project's, and the project's when the organization has none", () => {
    expect(effectivePolicy(PROJECT_ON, organization({ redirectUrl: 'https://acme.example/login' })).redirectUrl).toBe('https://acme.example/login');
    expect(effectivePolicy(PROJECT_ON, organization({ redirectUrl: null })).redirectUrl).toBe('https://project.example/authenticate');
    expect(effectivePolicy({ enabled: true, redirectUrl: null }, undefined).redirectUrl).toBeNull();
    expect(effectivePolicy({ enabled: true, redirectUrl: null }, organization({ redirectUrl: null })).redirectUrl).toBeNull();
  });
});

describe('impersonationUrl', () => {
  const TOKEN = 'AbCdEfGhIjKl-_0123456789abcdefghijklmnopqrst';

  it('adds stytch_token_type=multi_tenant_impersonation&token=<token> to a URL without a query string', () => {
    expect(impersonationUrl('https://acme.example/authenticate', TOKEN)).toBe(
      `https://acme.example/authenticate?stytch_token_type=multi_tenant_impersonation&token=${TOKEN}`,
    );
  });

  it('keeps an existing query string as it was written and appends the two parameters after it', () => {
    const redirect = 'https://acme.example/authenticate?next=/billing/invoices&q=a%20b&flag';
    const url = impersonationUrl(redirect, TOKEN);
    expect(url).toBe(`${redirect}&stytch_token_type=multi_tenant_impersonation&token=${TOKEN}`);
    const parsed = new URL(url);
    expect(parsed.searchParams.get('next')).toBe('/billing/invoices');
    expect(parsed.searchParams.get('q')).toBe('a b');
    expect(parsed.searchParams.get('stytch_token_type')).toBe('multi_tenant_impersonation');
    expect(parsed.searchParams.get('token')).toBe(TOKEN);
  });

  it('keeps a fragment after the query string', () => {
    const url = impersonationUrl('https://acme.example/app?tab=1#/welcome', TOKEN);
    expect(url).toBe(`https://acme.example/app?tab=1&stytch_token_type=multi_tenant_impersonation&token=${TOKEN}#/welcome`);
    expect(new URL(url).hash).toBe('#/welcome');
  });

  it('URL-encodes the token, so reserved characters cannot change the query', () => {
    const url = impersonationUrl('https://acme.example/authenticate', 'a+b/c=d&e f');
    expect(url).toBe('https://acme.example/authenticate?stytch_token_type=multi_tenant_impersonation&token=a%2Bb%2Fc%3Dd%26e%20f');
    expect(new URL(url).searchParams.get('token')).toBe('a+b/c=d&e f');
  });
});
