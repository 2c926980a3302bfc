import { afterEach, describe, expect, it } from 'vitest';
import { UniqueConstraintError } from '../../../src/domain/common/unique-constraint-error.js';
import { openStore } from '../../../src/storage/open-store.js';
import type { Store } from '../../../src/storage/store.js';
import { anOrganization } from '../../support/builders/organization-builder.js';
import { STORES } from '../../support/stores.js';

const WRITERS = 12;

describe.each(STORES)('concurrent writers on $name', (factory) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    // Close the extra store before the throwaway database is dropped.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** Two stores on one database on PostgreSQL, as two server processes would have; one store on in-memory SQLite. */
  async function openWriters(): Promise<[Store, Store]> {
    const opened = await factory.open();
    cleanups.push(opened.cleanup);
    if (opened.databaseUrl === undefined) return [opened.store, opened.store];
    const second = await openStore({ databaseUrl: opened.databaseUrl, sqliteFile: ':memory:' });
    cleanups.push(() => second.close());
    return [opened.store, second];
  }

  it(`lets exactly one of ${WRITERS} concurrent transactions take a slug; the others get UniqueConstraintError(organization_slug)`, async () => {
    const writers = await openWriters();
    const contenders = Array.from({ length: WRITERS }, () => anOrganization({ organizationSlug: 'contested-slug' }));
    const outcomes = await Promise.allSettled(
      contenders.map((organization, index) =>
        (writers[index % 2] as Store).transaction(async (tx) => {
          // The service checks before it writes; under a race every writer passes the check and the index decides.
          await tx.organizations.findOrganization(organization.organizationSlug);
          await tx.organizations.insertOrganization(organization);
        }),
      ),
    );
    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const rejected = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(WRITERS - 1);
    for (const reason of rejected) {
      expect(reason).toBeInstanceOf(UniqueConstraintError);
      expect((reason as UniqueConstraintError).field).toBe('organization_slug');
    }
    const winnerIndex = outcomes.findIndex((outcome) => outcome.status === 'fulfilled');
    const winner = contenders[winnerIndex];
    for (const store of writers) expect(await store.organizations.findOrganization('contested-slug')).toEqual(winner);
    const all = await writers[1].organizations.searchOrganizations({ operator: 'AND', filters: [] }, { limit: 100, after: null });
    expect(all.total).toBe(1);
  });
});
