import type { Member } from '../../domain/members/member.js';
import type { MembersStore } from '../../domain/members/members-store.js';
import type { Organization } from '../../domain/organizations/organization.js';
import type { OrganizationsStore } from '../../domain/organizations/organizations-store.js';
import type { MigrationPorts } from '../../domain/passwords/password-migration.js';

/**
 * A batch's transaction ports, with two reads passwords.migrate makes for every line answered from
 * what the batch already read in this same transaction: most of an import's time is these
 * per-line statements.
 *
 * - An organization is read (and, on PostgreSQL, locked FOR SHARE) once per batch: the lock holds
 *   until the batch commits, so the row cannot change meanwhile.
 * - A member by address comes from the batch's own search of its addresses (`members`), kept up to
 *   date with every member the batch writes. passwords.migrate only takes the member's id from it
 *   and then reads and locks the row by id.
 */
export function batchPorts(tx: MigrationPorts, members: BatchMembers): MigrationPorts {
  const organizations = new Map<string, Promise<Organization | undefined>>();
  const findOrganization: OrganizationsStore['findOrganization'] = (reference, options) => {
    const key = `${options?.forUpdate === true ? 'update' : options?.forShare === true ? 'share' : 'read'} ${reference}`;
    let found = organizations.get(key);
    if (found === undefined) {
      found = tx.organizations.findOrganization(reference, options);
      organizations.set(key, found);
    }
    return found;
  };
  const findMemberByEmail: MembersStore['findMemberByEmail'] = async (organizationId, emailAddress) => {
    const known = members.get(memberKey(organizationId, emailAddress));
    // An address the batch did not search is read from the database.
    return known === undefined ? tx.members.findMemberByEmail(organizationId, emailAddress) : (known ?? undefined);
  };
  return {
    ...tx,
    organizations: overriding(tx.organizations, { findOrganization }),
    members: overriding(tx.members, { findMemberByEmail }),
  };
}

/**
 * The live members of the addresses a batch names, by memberKey: null for an address searched and
 * not found. Kept up to date with the members the batch creates and updates.
 */
export type BatchMembers = Map<string, Member | null>;

export function memberKey(organizationId: string, emailAddress: string): string {
  return `${organizationId} ${emailAddress}`;
}

/** `target` with some methods replaced; the others still run on `target` itself (its private fields). */
function overriding<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, key) {
      if (Object.hasOwn(overrides, key)) return overrides[key as keyof T];
      const value: unknown = Reflect.get(object, key, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}
