import { afterEach, describe, expect, it } from 'vitest';
import type { OrganizationsService } from '../../../src/domain/organizations/organizations-service.js';
import { isDomainError } from '../../../src/domain/common/domain-error.js';
import { systemClock } from '../../../src/platform/clock.js';
import { cryptoRandom } from '../../../src/platform/random.js';
import { createServices } from '../../../src/services.js';
import { openStore } from '../../../src/storage/open-store.js';
import type { Store } from '../../../src/storage/store.js';
import { STORES } from '../../support/stores.js';
import { CONTEXT } from './service-harness.js';

const ROUNDS = 40;
const PROJECT_ID = 'project-test-00000000-0000-4000-8000-0000000000bb';

/**
 * Two server processes creating organizations at the same moment: one gives a new organization the
 * external id `tenant-N`, the other gives another new organization the slug `tenant-N`. The unique
 * indexes guard each column alone, so only the service's check (under its lock) can stop both from
 * succeeding; if both did, the reference `tenant-N` would move to the second organization.
 */
describe.each(STORES)('racing creates of one reference as an external id and as a slug ($name)', (factory) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * Two stores on one database on PostgreSQL, as two server processes would have. On SQLite one
   * store serves both: better-sqlite3 waits for a busy database synchronously, so a second
   * connection in the same process would block the first one's commit (the CLI beside a server is
   * two processes, covered by tests/integration/multi-process).
   */
  async function twoProcesses(): Promise<[OrganizationsService, OrganizationsService]> {
    const opened = await factory.open();
    cleanups.push(opened.cleanup);
    let stores: [Store, Store] = [opened.store, opened.store];
    if (opened.databaseUrl !== undefined) {
      const second = await openStore({ databaseUrl: opened.databaseUrl, sqliteFile: ':memory:' });
      cleanups.push(() => second.close());
      stores = [opened.store, second];
    }
    const services = stores.map(
      (store) => createServices({ store, clock: systemClock, random: cryptoRandom, projectId: PROJECT_ID, masterKey: Buffer.alloc(32, 7) }).organizations,
    );
    return services as [OrganizationsService, OrganizationsService];
  }

  it(`never lets both succeed, in ${ROUNDS} concurrent rounds`, async () => {
    const [first, second] = await twoProcesses();
    const outcomes = await Promise.all(
      Array.from({ length: ROUNDS }, async (_, round) => {
        const tenant = `tenant-${round}`;
        const [byExternalId, bySlug] = await Promise.allSettled([
          first.create(CONTEXT, { organizationName: `External ${round}`, organizationSlug: `external-${round}`, organizationExternalId: tenant }),
          second.create(CONTEXT, { organizationName: `Slug ${round}`, organizationSlug: tenant }),
        ]);
        return { tenant, byExternalId, bySlug };
      }),
    );
    for (const { tenant, byExternalId, bySlug } of outcomes) {
      const succeeded = [byExternalId, bySlug].filter((outcome) => outcome.status === 'fulfilled');
      expect(succeeded, `${tenant}: both organizations were created`).toHaveLength(1);
      const refused = [byExternalId, bySlug].find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult;
      expect(isDomainError(refused.reason), String(refused.reason)).toBe(true);
      expect(['organization_slug_already_used', 'organization_external_id_already_used']).toContain((refused.reason as { code: string }).code);
      const winner = (succeeded[0] as PromiseFulfilledResult<{ organizationId: string }>).value.organizationId;
      expect((await second.get(tenant)).organizationId).toBe(winner);
    }
  });
});
