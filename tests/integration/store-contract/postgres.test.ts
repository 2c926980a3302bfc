import { describe } from 'vitest';
import { POSTGRES_SKIP_REASON, POSTGRES_URL, STORES, type StoreFactory } from '../../support/stores.js';
import { describeAllStoreContracts } from './run-all-contracts.js';

/** Stands in when no database is configured, so the skipped suite still lists every test it would run. */
const unavailable: StoreFactory = {
  name: 'postgres',
  open() {
    return Promise.reject(new Error(POSTGRES_SKIP_REASON));
  },
};

const postgres = STORES.find((factory) => factory.name === 'postgres') ?? unavailable;

// Skipped without a database to talk to; the reason is in the describe name so every report shows it.
describe.skipIf(!POSTGRES_URL)(POSTGRES_URL ? 'storage contract on PostgreSQL' : `storage contract on PostgreSQL (${POSTGRES_SKIP_REASON})`, () => {
  describeAllStoreContracts(postgres);
});
