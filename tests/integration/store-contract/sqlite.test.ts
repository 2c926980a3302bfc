import { describe } from 'vitest';
import { STORES } from '../../support/stores.js';
import { describeAllStoreContracts } from './run-all-contracts.js';

const sqlite = STORES.find((factory) => factory.name === 'sqlite');
if (sqlite === undefined) throw new Error('tests/support/stores.ts always provides the SQLite store');

describe('storage contract on SQLite', () => {
  describeAllStoreContracts(sqlite);
});
