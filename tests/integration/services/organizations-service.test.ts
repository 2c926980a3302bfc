import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../src/domain/organizations/organization.js';
import type { CreateOrganizationInput } from '../../../src/domain/organizations/organizations-service.js';
import { STORES } from '../../support/stores.js';
import { CONTEXT, START, auditTrail, domainErrorCode, footprint, useServices } from './service-harness.js';

/** Inputs the service must refuse, each with the Stytch error_type it answers with (src/domain/organizations/errors.ts). */
const INVALID_CREATES: readonly [string, Record<string, unknown>, string][] = [
  ['no name', { organizationName: undefined }, 'organization_name_missing'],
  ['an empty name', { organizationName: '' }, 'organization_name_missing'],
  ['a blank name', { organizationName: '   ' }, 'organization_name_missing'],
  ['a name of 129 characters', { organizationName: 'n'.repeat(129) }, 'invalid_organization_name'],
  ['a one-character slug', { organizationSlug: 'a' }, 'invalid_organization_slug'],
  ['a slug with a space', { organizationSlug: 'has space' }, 'invalid_organization_slug'],
  ['an external id with a space', { organizationExternalId: 'has space' }, 'invalid_organization_external_id'],
  ['a logo that is not http(s)', { organizationLogoUrl: 'ftp://example.com/logo.png' }, 'invalid_organization_logo_url'],
  ['an unknown mfa_policy', { mfaPolicy: 'SOMETIMES' }, 'invalid_organization_mfa_policy'],
  ['an unknown auth method', { allowedAuthMethods: ['carrier_pigeon'] }, 'invalid_organization_allowed_auth_methods'],
  ['an unknown MFA method', { allowedMfaMethods: ['totp', 'email_otp'] }, 'invalid_organization_allowed_mfa_methods'],
  ['auth_methods NOT_ALLOWED', { authMethods: 'NOT_ALLOWED' }, 'invalid_organization_auth_method_settings'],
  ['RESTRICTED auth_methods with nothing allowed', { authMethods: 'RESTRICTED' }, 'allowed_auth_methods_required_for_restricted'],
  ['RESTRICTED mfa_methods with nothing allowed', { mfaMethods: 'RESTRICTED', allowedMfaMethods: [] }, 'allowed_mfa_methods_required_for_restricted'],
  ['a common email domain', { emailAllowedDomains: ['acme.example', 'Gmail.com'] }, 'organization_settings_domain_too_common'],
  ['a common claimed domain', { claimedEmailDomains: ['outlook.com'] }, 'organization_settings_claimed_domain_too_common'],
  ['an invalid email domain', { emailAllowedDomains: ['not a domain'] }, 'organization_settings_invalid_domain'],
  ['an invalid claimed domain', { claimedEmailDomains: ['acme..example'] }, 'organization_settings_invalid_claimed_domain'],
  ['a common implicit-role domain', { rbacEmailImplicitRoleAssignments: [{ domain: 'Yahoo.com', roleId: 'stytch_admin' }] }, 'rbac_domain_too_common'],
  ['an invalid implicit-role domain', { rbacEmailImplicitRoleAssignments: [{ domain: 'not a domain', roleId: 'stytch_admin' }] }, 'rbac_invalid_domain'],
  ['an unknown sso_jit_provisioning', { ssoJitProvisioning: 'MAYBE' }, 'invalid_organization_settings'],
  ['email_jit_provisioning ALL_ALLOWED', { emailJitProvisioning: 'ALL_ALLOWED' }, 'invalid_organization_settings'],
  ['an unknown OAuth tenant provider', { allowedOauthTenants: { myspace: ['tenant'] } }, 'invalid_organization_settings'],
  ['an implicit role without a role id', { rbacEmailImplicitRoleAssignments: [{ domain: 'acme.example', roleId: ' ' }] }, 'invalid_organization_settings'],
];

describe.each(STORES)('OrganizationsService on $name', (factory) => {
  const services = useServices(factory);

  describe('create', () => {
    it('applies the documented defaults, derives the slug from the name and records organization.created', async () => {
      const { organizations, store } = services();
      const created = await organizations.create(CONTEXT, { organizationName: '  Acme Corp! ' });
      expect(created).toMatchObject({ organizationName: 'Acme Corp!', organizationSlug: 'acme-corp', organizationLogoUrl: '', organizationExternalId: null });
      expect(created.organizationId).toMatch(/^organization-test-[0-9a-f-]{36}$/);
      expect(created.settings).toEqual({ ...DEFAULT_SETTINGS, emailInvites: 'ALL_ALLOWED' });
      expect(created.createdAt).toBe(START);
      expect(await store.organizations.findOrganization(created.organizationId)).toEqual(created);
      expect(await auditTrail(store)).toEqual([
        {
          eventId: expect.stringMatching(/^audit-event-test-/),
          type: 'organization.created',
          occurredAt: START,
          requestId: CONTEXT.requestId,
          actor: CONTEXT.actor,
          organizationId: created.organizationId,
          memberId: null,
          impersonatorId: null,
          client: null,
          details: { organization_slug: 'acme-corp' },
        },
      ]);
    });

    it('defaults email_invites to NOT_ALLOWED when any authentication setting is sent, and keeps an explicit value', async () => {
      const { organizations } = services();
      const withMfa = await organizations.create(CONTEXT, { organizationName: 'With MFA', mfaPolicy: 'REQUIRED_FOR_ALL' });
      expect(withMfa.settings.emailInvites).toBe('NOT_ALLOWED');
      expect(withMfa.settings.mfaPolicy).toBe('REQUIRED_FOR_ALL');
      const explicit = await organizations.create(CONTEXT, { organizationName: 'Explicit', authMethods: 'ALL_ALLOWED', emailInvites: 'RESTRICTED' });
      expect(explicit.settings.emailInvites).toBe('RESTRICTED');
    });

    it('pads a slug derived from a one-letter name and normalizes domains to lower case', async () => {
      const { organizations } = services();
      const created = await organizations.create(CONTEXT, {
        organizationName: 'Q',
        emailAllowedDomains: ['ACME.example', 'acme.example'],
        authMethods: 'RESTRICTED',
        allowedAuthMethods: ['sso', 'magic_link'],
      });
      expect(created.organizationSlug).toBe('qorg');
      expect(created.settings.emailAllowedDomains).toEqual(['acme.example']);
      expect(created.settings.allowedAuthMethods).toEqual(['sso', 'magic_link']);
    });

    it.each(INVALID_CREATES)('refuses %s with %s, writing no row and no audit event', async (_label, input, code) => {
      const { organizations, store } = services();
      const before = await footprint(store);
      const request = { organizationName: 'Valid Name', ...input } as unknown as CreateOrganizationInput;
      expect(await domainErrorCode(organizations.create(CONTEXT, request))).toBe(code);
      expect(await footprint(store)).toEqual(before);
    });

    it('refuses a used slug or external id with the matching error and writes nothing more', async () => {
      const { organizations, store } = services();
      await organizations.create(CONTEXT, { organizationName: 'First', organizationSlug: 'taken', organizationExternalId: 'ext-taken' });
      const before = await footprint(store);
      expect(await domainErrorCode(organizations.create(CONTEXT, { organizationName: 'Second', organizationSlug: 'taken' }))).toBe(
        'organization_slug_already_used',
      );
      expect(
        await domainErrorCode(organizations.create(CONTEXT, { organizationName: 'Third', organizationExternalId: 'ext-taken' })),
      ).toBe('organization_external_id_already_used');
      expect(await footprint(store)).toEqual(before);
    });

    it('suffixes a derived slug that is taken with the end of the new id, but refuses a taken slug that was sent', async () => {
      const { organizations, store } = services();
      const first = await organizations.create(CONTEXT, { organizationName: 'Acme Corp' });
      const second = await organizations.create(CONTEXT, { organizationName: 'ACME corp' });
      const third = await organizations.create(CONTEXT, { organizationName: 'Acme Corp' });
      expect(first.organizationSlug).toBe('acme-corp');
      expect(second.organizationSlug).toBe(`acme-corp-${second.organizationId.slice(-8)}`);
      expect(third.organizationSlug).toBe(`acme-corp-${third.organizationId.slice(-8)}`);
      expect(second.organizationSlug).not.toBe(third.organizationSlug);
      for (const created of [first, second, third]) expect(await organizations.get(created.organizationSlug)).toEqual(created);
      expect((await auditTrail(store)).map((event) => event.details)).toEqual([
        { organization_slug: 'acme-corp' },
        { organization_slug: second.organizationSlug },
        { organization_slug: third.organizationSlug },
      ]);
      const before = await footprint(store);
      expect(await domainErrorCode(organizations.create(CONTEXT, { organizationName: 'Acme Corp', organizationSlug: 'acme-corp' }))).toBe(
        'organization_slug_already_used',
      );
      expect(await domainErrorCode(organizations.create(CONTEXT, { organizationName: 'Other', organizationSlug: second.organizationSlug }))).toBe(
        'organization_slug_already_used',
      );
      expect(await footprint(store)).toEqual(before);
    });

    it('keeps a suffixed derived slug within 128 characters', async () => {
      const { organizations } = services();
      const name = 'N'.repeat(128);
      await organizations.create(CONTEXT, { organizationName: name });
      const second = await organizations.create(CONTEXT, { organizationName: name });
      expect(second.organizationSlug).toHaveLength(128);
      expect(second.organizationSlug).toBe(`${'n'.repeat(119)}-${second.organizationId.slice(-8)}`);
    });

    it('answers concurrent creates of one slug with one organization and organization_slug_already_used for the rest', async () => {
      const { organizations, store } = services();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, (_, index) => organizations.create(CONTEXT, { organizationName: `Racer ${index}`, organizationSlug: 'race' })),
      );
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes.filter((entry) => entry.status === 'rejected')) {
        expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'organization_slug_already_used' });
      }
      expect((await auditTrail(store)).map((event) => event.type)).toEqual(['organization.created']);
    });
  });

  describe('get', () => {
    it('finds an organization by id, slug or external id, and answers organization_not_found otherwise', async () => {
      const { organizations } = services();
      const created = await organizations.create(CONTEXT, { organizationName: 'Findable', organizationExternalId: 'findable-ext' });
      for (const reference of [created.organizationId, 'findable', 'findable-ext']) expect(await organizations.get(reference)).toEqual(created);
      expect(await domainErrorCode(organizations.get('organization-test-missing'))).toBe('organization_not_found');
    });
  });

  describe('update', () => {
    it('merges the sent fields into the stored ones, keeps createdAt, and records organization.updated', async () => {
      const { organizations, store, clock } = services();
      const created = await organizations.create(CONTEXT, {
        organizationName: 'Mergeable',
        emailAllowedDomains: ['merge.example'],
        trustedMetadata: { tier: 'gold' },
      });
      clock.advance(60_000);
      const updated = await organizations.update(CONTEXT, 'mergeable', { organizationName: 'Merged', mfaPolicy: 'REQUIRED_FOR_ALL' });
      expect(updated).toEqual({
        ...created,
        organizationName: 'Merged',
        settings: { ...created.settings, mfaPolicy: 'REQUIRED_FOR_ALL' },
        updatedAt: '2026-03-01T12:01:00Z',
      });
      expect(await store.organizations.findOrganization(created.organizationId)).toEqual(updated);
      const last = (await auditTrail(store)).at(-1);
      expect(last).toMatchObject({
        type: 'organization.updated',
        organizationId: created.organizationId,
        memberId: null,
        requestId: CONTEXT.requestId,
        actor: CONTEXT.actor,
        occurredAt: '2026-03-01T12:01:00Z',
        details: { fields: ['organization_name', 'mfa_policy'] },
      });
    });

    it('checks RESTRICTED against the merged settings, so clearing the allowed methods is refused', async () => {
      const { organizations, store } = services();
      const created = await organizations.create(CONTEXT, { organizationName: 'Strict', authMethods: 'RESTRICTED', allowedAuthMethods: ['sso'] });
      const before = await footprint(store);
      expect(await domainErrorCode(organizations.update(CONTEXT, created.organizationId, { allowedAuthMethods: [] }))).toBe(
        'allowed_auth_methods_required_for_restricted',
      );
      expect(await footprint(store)).toEqual(before);
      expect(await organizations.get(created.organizationId)).toEqual(created);
    });

    it('refuses another organization slug and unknown organizations without writing anything', async () => {
      const { organizations, store } = services();
      await organizations.create(CONTEXT, { organizationName: 'Holder' });
      const other = await organizations.create(CONTEXT, { organizationName: 'Other' });
      const before = await footprint(store);
      expect(await domainErrorCode(organizations.update(CONTEXT, 'other', { organizationSlug: 'holder' }))).toBe('organization_slug_already_used');
      expect(await domainErrorCode(organizations.update(CONTEXT, 'missing', { organizationName: 'X' }))).toBe('organization_not_found');
      expect(await domainErrorCode(organizations.update(CONTEXT, 'other', { emailAllowedDomains: ['yahoo.com'] }))).toBe(
        'organization_settings_domain_too_common',
      );
      expect(await domainErrorCode(organizations.update(CONTEXT, 'other', { claimedEmailDomains: ['yahoo.com'] }))).toBe(
        'organization_settings_claimed_domain_too_common',
      );
      expect(await domainErrorCode(organizations.update(CONTEXT, 'other', { organizationName: ' ' }))).toBe('organization_name_missing');
      expect(await footprint(store)).toEqual(before);
      expect(await organizations.get(other.organizationId)).toEqual(other);
    });

    it("refuses a slug or external id that is another organization's id, slug or external id, but not its own", async () => {
      const { organizations, store } = services();
      const holder = await organizations.create(CONTEXT, { organizationName: 'Holder', organizationExternalId: 'holder-external' });
      const other = await organizations.create(CONTEXT, { organizationName: 'Other' });
      const before = await footprint(store);
      for (const slug of ['holder-external', holder.organizationId]) {
        expect(await domainErrorCode(organizations.update(CONTEXT, 'other', { organizationSlug: slug }))).toBe('organization_slug_already_used');
      }
      for (const externalId of ['holder', holder.organizationId]) {
        expect(await domainErrorCode(organizations.update(CONTEXT, 'other', { organizationExternalId: externalId }))).toBe('organization_external_id_already_used');
      }
      expect(await footprint(store)).toEqual(before);
      const own = await organizations.update(CONTEXT, 'other', { organizationExternalId: 'other', organizationSlug: other.organizationId });
      expect(own).toMatchObject({ organizationSlug: other.organizationId, organizationExternalId: 'other' });
    });

    it('does not hold a collision stored before these checks against an update that leaves slug and external id alone', async () => {
      const { organizations, store } = services();
      const holder = await organizations.create(CONTEXT, { organizationName: 'Holder', organizationExternalId: 'shared-reference' });
      const legacy = await organizations.create(CONTEXT, { organizationName: 'Legacy' });
      await store.organizations.updateOrganization({ ...legacy, organizationSlug: 'shared-reference' });
      const renamed = await organizations.update(CONTEXT, legacy.organizationId, { organizationName: 'Legacy Renamed' });
      expect(renamed.organizationName).toBe('Legacy Renamed');
      // A changed value is still checked: the holder cannot take the slug the legacy organization holds.
      expect(await domainErrorCode(organizations.update(CONTEXT, holder.organizationId, { organizationSlug: 'shared-reference' }))).toBe(
        'organization_slug_already_used',
      );
    });
  });

  describe('delete and deleteExternalId', () => {
    it('deletes the organization with its members and records organization.deleted', async () => {
      const { organizations, members, store } = services();
      const doomed = await organizations.create(CONTEXT, { organizationName: 'Doomed' });
      const kept = await organizations.create(CONTEXT, { organizationName: 'Kept' });
      const { member } = await members.create(CONTEXT, 'doomed', { emailAddress: 'gone@doomed.example' });
      const { member: survivor } = await members.create(CONTEXT, 'kept', { emailAddress: 'gone@doomed.example' });
      expect(await organizations.delete(CONTEXT, 'doomed')).toBe(doomed.organizationId);
      expect(await store.organizations.findOrganization(doomed.organizationId)).toBeUndefined();
      expect(await store.members.findMemberById(member.memberId)).toBeUndefined();
      expect(await store.members.findMemberById(survivor.memberId)).toEqual(survivor);
      expect(await organizations.get(kept.organizationId)).toEqual(kept);
      expect((await auditTrail(store)).at(-1)).toMatchObject({
        type: 'organization.deleted',
        organizationId: doomed.organizationId,
        requestId: CONTEXT.requestId,
        actor: CONTEXT.actor,
      });
      expect(await domainErrorCode(organizations.delete(CONTEXT, 'doomed'))).toBe('organization_not_found');
    });

    it('clears the external id, frees it for another organization and records organization.external_id_deleted', async () => {
      const { organizations, store } = services();
      const created = await organizations.create(CONTEXT, { organizationName: 'External', organizationExternalId: 'ext-1' });
      const cleared = await organizations.deleteExternalId(CONTEXT, 'ext-1');
      expect(cleared.organizationExternalId).toBeNull();
      expect(await organizations.get(created.organizationId)).toEqual(cleared);
      expect((await auditTrail(store)).at(-1)).toMatchObject({
        type: 'organization.external_id_deleted',
        organizationId: created.organizationId,
        details: { organization_external_id: 'ext-1' },
      });
      await organizations.create(CONTEXT, { organizationName: 'Next', organizationExternalId: 'ext-1' });
    });
  });

  describe('search and metrics', () => {
    it('pages with an opaque cursor and refuses unknown filters, bad cursors and bad limits', async () => {
      const { organizations, clock } = services();
      for (const name of ['One', 'Two', 'Three']) {
        await organizations.create(CONTEXT, { organizationName: name });
        clock.advance(1000);
      }
      const first = await organizations.search({ limit: 2 });
      expect(first.items.map((item) => item.organizationName)).toEqual(['One', 'Two']);
      expect(first.total).toBe(3);
      const second = await organizations.search({ limit: 2, cursor: first.nextCursor as string });
      expect(second.items.map((item) => item.organizationName)).toEqual(['Three']);
      expect(second.nextCursor).toBeNull();
      expect(await domainErrorCode(organizations.search({ query: { operator: 'AND', operands: [{ filter_name: 'nope', filter_value: 'x' }] } }))).toBe(
        'organization_search_filter_name_not_recognized',
      );
      expect(await domainErrorCode(organizations.search({ query: { operator: 'XOR', operands: [] } }))).toBe('invalid_search_query');
      expect(await domainErrorCode(organizations.search({ cursor: 'not-a-cursor' }))).toBe('invalid_cursor');
      expect(await domainErrorCode(organizations.search({ limit: 0 }))).toBe('invalid_limit');
    });

    it('counts live members only', async () => {
      const { organizations, members } = services();
      await organizations.create(CONTEXT, { organizationName: 'Counted' });
      await members.create(CONTEXT, 'counted', { emailAddress: 'one@counted.example' });
      const { member } = await members.create(CONTEXT, 'counted', { emailAddress: 'two@counted.example' });
      await members.delete(CONTEXT, 'counted', member.memberId);
      expect(await organizations.metrics('counted')).toEqual({ memberCount: 1 });
    });
  });
});
