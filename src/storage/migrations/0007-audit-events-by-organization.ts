import type { Kysely } from 'kysely';

/**
 * The audit trail is read in event-id order from a cursor (pages and whole-trail exports). Member
 * and impersonator filters had an index in that order (0003); the organization filter had only
 * (organization_id, occurred_at), so every page of an organization's trail read and sorted all of
 * its events. With this index each page is a seek from the cursor, on both databases.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('audit_events_organization_event').on('audit_events').columns(['organization_id', 'event_id']).execute();
}
