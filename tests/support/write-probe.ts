import { expect } from 'vitest';
import { changedTables, openDatabaseProbe, type DatabaseProbe } from '../reliability/support/table-snapshot.js';
import type { TestServer } from './test-server.js';

/**
 * Proves a refused call wrote nothing but the audit records it is expected to leave: the whole
 * database is read before and after (over a second connection), the audit events added are exactly
 * `records` (by type, in any order), and no table other than the records' own changed.
 */
export interface RecordProbe {
  expectOnlyRecords<T>(records: readonly string[], call: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openRecordProbe(server: TestServer): Promise<RecordProbe> {
  const probe: DatabaseProbe = await openDatabaseProbe(server);
  return {
    async expectOnlyRecords(records, call) {
      const before = await probe.snapshot();
      const typesBefore = await probe.values('audit_events', 'type');
      const result = await call();
      const after = await probe.snapshot();
      const added = withoutEach(await probe.values('audit_events', 'type'), typesBefore);
      expect(added.sort()).toEqual([...records].sort());
      // The rows that follow an audit record (its chain's head, the webhook outbox) are left out of
      // every snapshot (table-snapshot.ts); audit_events was compared by type just above.
      expect(changedTables(before, after).filter((table) => table !== 'audit_events')).toEqual([]);
      return result;
    },
    close: () => probe.close(),
  };
}

/** `values` minus one occurrence of each of `removed`. */
function withoutEach(values: readonly string[], removed: readonly string[]): string[] {
  const left = [...values];
  for (const value of removed) {
    const index = left.indexOf(value);
    if (index >= 0) left.splice(index, 1);
  }
  return left;
}
