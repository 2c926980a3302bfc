import type { Kysely } from 'kysely';

/**
 * Mail: every message sent, newest 1,000 kept. Without SMTP (outbox mode, for development) a row
 * holds the message itself, link or code included, so a developer can read it in the console or
 * with `understudy outbox`; with SMTP only the delivery status (attempts, the server's last reply),
 * never the link, code or bodies. Message ids are time-ordered, so they sort newest last.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('mail_outbox')
    .addColumn('message_id', 'text', (column) => column.primaryKey())
    .addColumn('mode', 'text', (column) => column.notNull())
    .addColumn('status', 'text', (column) => column.notNull())
    .addColumn('template', 'text', (column) => column.notNull())
    .addColumn('locale', 'text', (column) => column.notNull())
    .addColumn('recipient', 'text', (column) => column.notNull())
    .addColumn('recipient_key', 'text', (column) => column.notNull())
    .addColumn('subject', 'text', (column) => column.notNull())
    .addColumn('organization_id', 'text')
    .addColumn('member_id', 'text')
    .addColumn('request_id', 'text', (column) => column.notNull())
    .addColumn('expires_at', 'text', (column) => column.notNull())
    .addColumn('link', 'text')
    .addColumn('code', 'text')
    .addColumn('text_body', 'text')
    .addColumn('html_body', 'text')
    .addColumn('attempts', 'integer', (column) => column.notNull())
    .addColumn('last_reply', 'text')
    .addColumn('created_at', 'text', (column) => column.notNull())
    .addColumn('updated_at', 'text', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('mail_outbox_by_recipient').on('mail_outbox').columns(['recipient_key', 'message_id']).execute();
}
