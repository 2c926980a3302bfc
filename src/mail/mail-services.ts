import type { Transactional } from '../domain/common/transactional.js';
import { MailDispatcher } from '../domain/mail/mail-dispatcher.js';
import type { MailOutboxStore } from '../domain/mail/mail-outbox-store.js';
import { Outbox } from '../domain/mail/outbox.js';
import type { Clock } from '../platform/clock.js';
import type { IdGenerator } from '../platform/ids.js';
import type { Logger } from '../platform/logger.js';
import { SmtpTransport, type SmtpSettings } from './smtp-transport.js';
import { DEFAULT_PROJECT_NAME, renderEmail } from './templates/render-email.js';

/** How sign-in email leaves (UNDERSTUDY_PROJECT_NAME, UNDERSTUDY_SMTP_*). */
export interface MailSettings {
  /** The project's name in every message; "Understudy" when omitted. */
  readonly projectName?: string | undefined;
  /** Where to send; omitted, every message is kept in the outbox instead (development). */
  readonly smtp?: SmtpSettings | undefined;
  /** Waits before each retry of a temporary SMTP failure; 1, 2, 4 and 8 seconds when omitted (tests shorten them). */
  readonly retryDelaysMs?: readonly number[] | undefined;
  /** Where permanent failures are logged (without the link, code or body); nowhere when omitted. */
  readonly logger?: Logger | undefined;
}

/** The mail port (`services.mail`) and the read side of what it sent (`services.outbox`). */
export function createMailServices(options: {
  store: Transactional<{ mailOutbox: MailOutboxStore }>;
  clock: Clock;
  ids: IdGenerator;
  settings?: MailSettings | undefined;
}): { mail: MailDispatcher; outbox: Outbox } {
  const settings = options.settings ?? {};
  const projectName = settings.projectName ?? DEFAULT_PROJECT_NAME;
  const logger = settings.logger;
  const mail = new MailDispatcher({
    store: options.store,
    clock: options.clock,
    ids: options.ids,
    render: (email, now) => renderEmail(email, { projectName, now }),
    transport: settings.smtp === undefined ? undefined : new SmtpTransport(settings.smtp),
    retryDelaysMs: settings.retryDelaysMs,
    onFailure: (failure) =>
      logger?.error(
        {
          message_id: failure.messageId,
          request_id: failure.requestId,
          template: failure.template,
          to: failure.to,
          organization_id: failure.organizationId,
          member_id: failure.memberId,
          attempts: failure.attempts,
          smtp_reply: failure.reply,
        },
        'email delivery failed permanently',
      ),
    onProblem: (problem) => logger?.warn({ message_id: problem.messageId, err: problem.error }, 'recording an email failed'),
  });
  return { mail, outbox: new Outbox({ store: options.store, mode: mail.mode }) };
}
