import type { Kysely, Selectable } from 'kysely';
import type { MailMessage, MailMode, MailStatus } from '../../domain/mail/mail-message.js';
import type { MailMessageFilter, MailOutboxStore } from '../../domain/mail/mail-outbox-store.js';
import type { EmailLocale, EmailTemplateName } from '../../domain/mail/outgoing-email.js';
import type { Database, MailOutboxRow } from '../database.js';

export class MailOutboxSqlStore implements MailOutboxStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertMessage(message: MailMessage): Promise<void> {
    await this.#db
      .insertInto('mail_outbox')
      .values({
        message_id: message.messageId,
        mode: message.mode,
        status: message.status,
        template: message.template,
        locale: message.locale,
        recipient: message.to,
        recipient_key: message.to.toLowerCase(),
        subject: message.subject,
        organization_id: message.organizationId,
        member_id: message.memberId,
        request_id: message.requestId,
        expires_at: message.expiresAt,
        link: message.link,
        code: message.code,
        text_body: message.text,
        html_body: message.html,
        attempts: message.attempts,
        last_reply: message.lastReply,
        created_at: message.createdAt,
        updated_at: message.updatedAt,
      })
      .execute();
  }

  async eraseOutboxSecrets(): Promise<number> {
    const result = await this.#db
      .updateTable('mail_outbox')
      .set({ link: null, code: null, text_body: null, html_body: null })
      .where((eb) => eb.or([eb('link', 'is not', null), eb('code', 'is not', null), eb('text_body', 'is not', null), eb('html_body', 'is not', null)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async pruneMessages(keep: number): Promise<void> {
    // The keep-th newest id is the cut: everything older goes. One indexed lookup, then one range delete.
    const cut = await this.#db.selectFrom('mail_outbox').select('message_id').orderBy('message_id', 'desc').offset(keep - 1).limit(1).executeTakeFirst();
    if (cut === undefined) return;
    await this.#db.deleteFrom('mail_outbox').where('message_id', '<', cut.message_id).execute();
  }

  async updateDelivery(messageId: string, delivery: { readonly status: MailStatus; readonly attempts: number; readonly lastReply: string | null; readonly at: string }): Promise<void> {
    await this.#db
      .updateTable('mail_outbox')
      .set({ status: delivery.status, attempts: delivery.attempts, last_reply: delivery.lastReply, updated_at: delivery.at })
      .where('message_id', '=', messageId)
      .execute();
  }

  async listMessages(filter: MailMessageFilter): Promise<MailMessage[]> {
    let query = this.#db.selectFrom('mail_outbox').selectAll();
    if (filter.to !== undefined) query = query.where('recipient_key', '=', filter.to.toLowerCase());
    const rows = await query.orderBy('message_id', 'desc').limit(filter.limit).execute();
    return rows.map(toMessage);
  }

  async findMessage(messageId: string): Promise<MailMessage | undefined> {
    const row = await this.#db.selectFrom('mail_outbox').selectAll().where('message_id', '=', messageId).executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  }
}

function toMessage(row: Selectable<MailOutboxRow>): MailMessage {
  return {
    messageId: row.message_id,
    mode: row.mode as MailMode,
    status: row.status as MailStatus,
    template: row.template as EmailTemplateName,
    locale: row.locale as EmailLocale,
    to: row.recipient,
    subject: row.subject,
    organizationId: row.organization_id,
    memberId: row.member_id,
    requestId: row.request_id,
    expiresAt: row.expires_at,
    link: row.link,
    code: row.code,
    text: row.text_body,
    html: row.html_body,
    attempts: Number(row.attempts),
    lastReply: row.last_reply,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
