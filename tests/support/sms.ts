import type { SmsMessage } from '../../src/domain/sms/sms-message.js';
import type { TestServer } from './test-server.js';

/**
 * Reading the SMS a test server sent, from its SMS outbox (test servers have no SMS provider unless
 * a test sets `config: { sms: … }`):
 *
 *   const sms = await waitForSms(server, '+14155550100');   // newest message to that number
 *   sms.code                                              // the six digits (outbox mode only)
 *   const again = await waitForSms(server, '+14155550100', { after: sms });
 *
 * Delivery runs after the sending call answered, so wait rather than read once; to show that nothing
 * was sent, `await settleSms(server)` first, then `listSms`.
 */
export async function waitForSms(server: TestServer, to: string, options: { readonly after?: SmsMessage; readonly timeoutMs?: number } = {}): Promise<SmsMessage> {
  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  for (;;) {
    const [newest] = await listSms(server, to);
    if (newest !== undefined && (options.after === undefined || newest.messageId > options.after.messageId)) return newest;
    if (Date.now() > deadline) throw new Error(`no${options.after === undefined ? '' : ' newer'} SMS to ${to} within ${options.timeoutMs ?? 5000} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every SMS to `to`, newest first. */
export function listSms(server: TestServer, to: string): Promise<SmsMessage[]> {
  return server.server.app.services.smsOutbox.list({ to });
}

/** Resolves once every SMS handed over so far is recorded (and, with a provider, sent or failed). */
export function settleSms(server: TestServer): Promise<void> {
  return server.server.app.services.sms.idle();
}
