import type { Kysely, Selectable } from 'kysely';
import type { SmsLocale } from '../../domain/sms/outgoing-sms.js';
import type { SmsMessage, SmsMode, SmsStatus } from '../../domain/sms/sms-message.js';
import type { SmsMessageFilter, SmsOutboxStore } from '../../domain/sms/sms-outbox-store.js';
import type { Database, SmsOutboxRow } from '../database.js';

export class SmsOutboxSqlStore implements SmsOutboxStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insertMessage(message: SmsMessage): Promise<void> {
    await this.#db
      .insertInto('sms_outbox')
      .values({
        message_id: message.messageId,
        mode: message.mode,
        status: message.status,
        template: message.template,
        locale: message.locale,
        recipient: message.to,
        organization_id: message.organizationId,
        member_id: message.memberId,
        request_id: message.requestId,
        expires_at: message.expiresAt,
        code: message.code,
        text_body: message.text,
        attempts: message.attempts,
        last_reply: message.lastReply,
        created_at: message.createdAt,
        updated_at: message.updatedAt,
      })
      .execute();
  }

  async eraseOutboxSecrets(): Promise<number> {
    const result = await this.#db
      .updateTable('sms_outbox')
      .set({ code: null, text_body: null })
      .where((eb) => eb.or([eb('code', 'is not', null), eb('text_body', 'is not', null)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async pruneMessages(keep: number): Promise<void> {
    // The keep-th newest id is the cut: everything older goes. One indexed lookup, then one range delete.
    const cut = await this.#db.selectFrom('sms_outbox').select('message_id').orderBy('message_id', 'desc').offset(keep - 1).limit(1).executeTakeFirst();
    if (cut === undefined) return;
    await this.#db.deleteFrom('sms_outbox').where('message_id', '<', cut.message_id).execute();
  }

  async updateDelivery(messageId: string, delivery: { readonly status: SmsStatus; readonly attempts: number; readonly lastReply: string | null; readonly at: string }): Promise<void> {
    await this.#db
      .updateTable('sms_outbox')
      .set({ status: delivery.status, attempts: delivery.attempts, last_reply: delivery.lastReply, updated_at: delivery.at })
      .where('message_id', '=', messageId)
      .execute();
  }

  async listMessages(filter: SmsMessageFilter): Promise<SmsMessage[]> {
    let query = this.#db.selectFrom('sms_outbox').selectAll();
    if (filter.to !== undefined) query = query.where('recipient', '=', filter.to);
    const rows = await query.orderBy('message_id', 'desc').limit(filter.limit).execute();
    return rows.map(toMessage);
  }

  async findMessage(messageId: string): Promise<SmsMessage | undefined> {
    const row = await this.#db.selectFrom('sms_outbox').selectAll().where('message_id', '=', messageId).executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  }
}

function toMessage(row: Selectable<SmsOutboxRow>): SmsMessage {
  return {
    messageId: row.message_id,
    mode: row.mode as SmsMode,
    status: row.status as SmsStatus,
    template: 'sms_otp',
    locale: row.locale as SmsLocale,
    to: row.recipient,
    organizationId: row.organization_id,
    memberId: row.member_id,
    requestId: row.request_id,
    expiresAt: row.expires_at,
    code: row.code,
    text: row.text_body,
    attempts: Number(row.attempts),
    lastReply: row.last_reply,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
