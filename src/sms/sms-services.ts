import type { Transactional } from '../domain/common/transactional.js';
import { SmsDispatcher } from '../domain/sms/sms-dispatcher.js';
import { SmsOutbox } from '../domain/sms/sms-outbox.js';
import type { SmsOutboxStore } from '../domain/sms/sms-outbox-store.js';
import type { SmsTransport } from '../domain/sms/sms-transport.js';
import type { Clock } from '../platform/clock.js';
import type { IdGenerator } from '../platform/ids.js';
import type { Logger } from '../platform/logger.js';
import { DEFAULT_SMS_TIMEOUT_MS } from './http-attempt.js';
import type { SmsProviderSettings } from './sms-settings.js';
import { renderSms } from './templates/render-sms.js';
import { TwilioTransport } from './twilio-transport.js';
import { WebhookTransport } from './webhook-transport.js';

/** How SMS codes leave (UNDERSTUDY_SMS_PROVIDER and its keys). */
export interface SmsSettings {
  /** Omitted: the outbox (development). */
  readonly provider?: SmsProviderSettings | undefined;
  /** Country calling codes (digits) codes may be sent to (UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES); every country when omitted or empty. */
  readonly allowedCountryCodes?: readonly string[] | undefined;
  /** Waits before each retry of a temporary failure; 1, 2, 4 and 8 seconds when omitted (tests shorten them). */
  readonly retryDelaysMs?: readonly number[] | undefined;
  /** How long one provider request may take; 10 seconds when omitted. */
  readonly timeoutMs?: number | undefined;
  /** Where permanent failures are logged (without the code or the text); nowhere when omitted. */
  readonly logger?: Logger | undefined;
}

/** The SMS port (`services.sms`) and the read side of what it sent (`services.smsOutbox`). */
export function createSmsServices(options: {
  store: Transactional<{ smsOutbox: SmsOutboxStore }>;
  clock: Clock;
  ids: IdGenerator;
  settings?: SmsSettings | undefined;
}): { sms: SmsDispatcher; smsOutbox: SmsOutbox } {
  const settings = options.settings ?? {};
  const logger = settings.logger;
  const sms = new SmsDispatcher({
    store: options.store,
    clock: options.clock,
    ids: options.ids,
    render: renderSms,
    transport: transportFor(settings.provider ?? { provider: 'outbox' }, { clock: options.clock, timeoutMs: settings.timeoutMs ?? DEFAULT_SMS_TIMEOUT_MS }),
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
          provider_reply: failure.reply,
        },
        'SMS delivery failed permanently',
      ),
    onProblem: (problem) => logger?.warn({ message_id: problem.messageId, err: problem.error }, 'recording an SMS failed'),
  });
  return { sms, smsOutbox: new SmsOutbox({ store: options.store, mode: sms.mode }) };
}

function transportFor(settings: SmsProviderSettings, options: { readonly clock: Clock; readonly timeoutMs: number }): SmsTransport | undefined {
  switch (settings.provider) {
    case 'outbox':
      return undefined;
    case 'webhook':
      return new WebhookTransport(settings.webhook, options);
    case 'twilio':
      return new TwilioTransport(settings.twilio, options);
  }
}
