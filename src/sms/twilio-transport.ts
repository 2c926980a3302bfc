import type { SendResult, SmsToSend, SmsTransport } from '../domain/sms/sms-transport.js';
import { postOnce, resultOf } from './http-attempt.js';
import type { TwilioSettings } from './sms-settings.js';

/**
 * Sends through Twilio's Messages API, or anything that speaks it: one form-encoded POST per
 * attempt to /2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic credentials. A 201
 * carries the message `sid`, kept as the reply; an error carries Twilio's `code` and `message`.
 */
export class TwilioTransport implements SmsTransport {
  readonly mode = 'twilio';
  readonly #url: string;
  readonly #authorization: string;
  readonly #sender: readonly [name: 'From' | 'MessagingServiceSid', value: string];
  readonly #timeoutMs: number;

  constructor(settings: TwilioSettings, options: { readonly timeoutMs: number }) {
    const sender = settings.from ?? settings.messagingServiceSid;
    // The configuration loader refuses this first; this guards other callers.
    if (sender === undefined) throw new Error('Twilio needs a From number or a messaging service SID');
    this.#url = `${settings.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(settings.accountSid)}/Messages.json`;
    this.#authorization = `Basic ${Buffer.from(`${settings.accountSid}:${settings.authToken}`).toString('base64')}`;
    this.#sender = settings.from !== undefined ? ['From', settings.from] : ['MessagingServiceSid', sender];
    this.#timeoutMs = options.timeoutMs;
  }

  async send(message: SmsToSend): Promise<SendResult> {
    const form = new URLSearchParams();
    form.set('To', message.to);
    form.set(this.#sender[0], this.#sender[1]);
    form.set('Body', message.body);
    const answer = await postOnce(
      this.#url,
      {
        headers: { authorization: this.#authorization, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'Understudy' },
        body: form.toString(),
      },
      this.#timeoutMs,
    );
    return resultOf(answer, describeAnswer);
  }

  close(): void {}
}

/** `201 SM…` on success; `400 21211: Invalid To (https://…)` for a Twilio error; the raw text otherwise. */
function describeAnswer({ status, text }: { readonly status: number; readonly text: string }): string {
  const json = parseObject(text);
  if (status >= 200 && status < 300) {
    const sid = typeof json?.sid === 'string' ? json.sid : undefined;
    const state = typeof json?.status === 'string' ? ` (${json.status})` : '';
    return sid === undefined ? `${status} accepted, no message sid in the answer` : `${status} ${sid}${state}`;
  }
  if (json !== undefined && (json.code !== undefined || typeof json.message === 'string')) {
    const code = typeof json.code === 'number' || typeof json.code === 'string' ? `${json.code}: ` : '';
    const detail = typeof json.message === 'string' ? json.message : 'error';
    const more = typeof json.more_info === 'string' ? ` (${json.more_info})` : '';
    return `${status} ${code}${detail}${more}`;
  }
  return text.trim() === '' ? `${status}` : `${status} ${text}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
