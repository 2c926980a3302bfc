import { SMS_PROVIDERS, type SmsProviderSettings } from '../sms/sms-settings.js';
import { webhookSigningKey } from '../sms/standard-webhooks.js';
import { CONFIG_KEYS, type ConfigName } from './schema.js';

const WEBHOOK_KEYS = ['smsWebhookUrl', 'smsWebhookSecret'] as const satisfies readonly ConfigName[];
/** The base URL has a default, so it alone never says that Twilio was meant. */
const TWILIO_KEYS = ['twilioAccountSid', 'twilioAuthToken', 'twilioFrom', 'twilioMessagingServiceSid'] as const satisfies readonly ConfigName[];

/**
 * UNDERSTUDY_SMS_PROVIDER and the chosen provider's keys, each checked; problems are appended. A
 * provider without its settings is a problem, and so are another provider's keys: a half-configured
 * provider must not fall back to the outbox, which keeps every code in the database. Secrets are
 * never repeated in a problem.
 */
export function loadSmsConfig(raw: (name: ConfigName) => string | undefined, problems: string[]): { sms: SmsProviderSettings; smsAllowedCountryCodes: readonly string[] } {
  return { sms: loadSmsProvider(raw, problems), smsAllowedCountryCodes: allowedCountryCodes(raw, problems) };
}

function loadSmsProvider(raw: (name: ConfigName) => string | undefined, problems: string[]): SmsProviderSettings {
  const provider = raw('smsProvider');
  if (!SMS_PROVIDERS.includes(provider as (typeof SMS_PROVIDERS)[number])) {
    problems.push(`${CONFIG_KEYS.smsProvider.env} must be one of ${SMS_PROVIDERS.join(', ')} (got "${provider}")`);
    return { provider: 'outbox' };
  }
  const unused = (keys: readonly ConfigName[]): void => {
    for (const name of keys) {
      if (raw(name) !== undefined) problems.push(`${CONFIG_KEYS[name].env} is set, but ${CONFIG_KEYS.smsProvider.env} is ${provider}: choose its provider there, or unset it`);
    }
  };
  if (provider === 'webhook') {
    unused(TWILIO_KEYS);
    return { provider, webhook: { url: httpUrl('smsWebhookUrl', raw, problems, 'webhook') ?? '', secret: webhookSecret(raw, problems) ?? '' } };
  }
  if (provider === 'twilio') {
    unused(WEBHOOK_KEYS);
    return { provider, twilio: twilioSettings(raw, problems) };
  }
  unused([...WEBHOOK_KEYS, ...TWILIO_KEYS]);
  return { provider: 'outbox' };
}

/**
 * UNDERSTUDY_SMS_ALLOWED_COUNTRY_CODES: country calling codes of one to three digits (a leading +
 * is dropped), comma-separated; unset or empty allows every country. In the file also a list.
 */
function allowedCountryCodes(raw: (name: ConfigName) => string | undefined, problems: string[]): readonly string[] {
  const value = raw('smsAllowedCountryCodes');
  if (value === undefined || value.trim() === '') return [];
  const codes = value.split(',').map((entry) => entry.trim().replace(/^\+/, ''));
  const bad = codes.filter((code) => !/^[1-9]\d{0,2}$/.test(code));
  if (bad.length > 0) {
    problems.push(`${CONFIG_KEYS.smsAllowedCountryCodes.env} must be country calling codes of 1 to 3 digits, comma-separated, such as 1,44 (got "${value}")`);
    return [];
  }
  return [...new Set(codes)];
}

function twilioSettings(raw: (name: ConfigName) => string | undefined, problems: string[]): Extract<SmsProviderSettings, { provider: 'twilio' }>['twilio'] {
  const required = (name: ConfigName, what: string): string | undefined => {
    const value = raw(name);
    if (value === undefined) problems.push(`${CONFIG_KEYS[name].env} is required with ${CONFIG_KEYS.smsProvider.env}=twilio: ${what}`);
    return value;
  };
  const accountSid = required('twilioAccountSid', 'the account SID');
  if (accountSid !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) problems.push(`${CONFIG_KEYS.twilioAccountSid.env} must be AC followed by 32 hex digits (got "${accountSid}")`);
  const authToken = required('twilioAuthToken', "the account's auth token");
  if (authToken !== undefined && /\s/.test(authToken)) problems.push(`${CONFIG_KEYS.twilioAuthToken.env} must not contain spaces or line breaks`);
  const from = raw('twilioFrom');
  const messagingServiceSid = raw('twilioMessagingServiceSid');
  if ((from === undefined) === (messagingServiceSid === undefined)) {
    problems.push(`set exactly one of ${CONFIG_KEYS.twilioFrom.env} and ${CONFIG_KEYS.twilioMessagingServiceSid.env} with ${CONFIG_KEYS.smsProvider.env}=twilio: the sender`);
  }
  if (from !== undefined && !/^\+[1-9]\d{1,14}$/.test(from)) problems.push(`${CONFIG_KEYS.twilioFrom.env} must be a number in E.164 such as +14155550100 (got "${from}")`);
  if (messagingServiceSid !== undefined && !/^MG[0-9a-fA-F]{32}$/.test(messagingServiceSid)) {
    problems.push(`${CONFIG_KEYS.twilioMessagingServiceSid.env} must be MG followed by 32 hex digits (got "${messagingServiceSid}")`);
  }
  return { accountSid: accountSid ?? '', authToken: authToken ?? '', from, messagingServiceSid, baseUrl: httpUrl('twilioBaseUrl', raw, problems, 'twilio') ?? '' };
}

function webhookSecret(raw: (name: ConfigName) => string | undefined, problems: string[]): string | undefined {
  const secret = raw('smsWebhookSecret');
  const env = CONFIG_KEYS.smsWebhookSecret.env;
  if (secret === undefined) problems.push(`${env} is required with ${CONFIG_KEYS.smsProvider.env}=webhook: the signing secret your endpoint checks`);
  else if (webhookSigningKey(secret) === undefined) problems.push(`${env} must be whsec_ followed by the base64 of a 24 to 64 byte key (e.g. \`echo whsec_$(openssl rand -base64 32)\`)`);
  return secret;
}

/** An http(s) URL, https unless it points at this machine: the request carries the code. */
function httpUrl(name: 'smsWebhookUrl' | 'twilioBaseUrl', raw: (name: ConfigName) => string | undefined, problems: string[], provider: string): string | undefined {
  const env = CONFIG_KEYS[name].env;
  const text = raw(name);
  if (text === undefined) {
    problems.push(`${env} is required with ${CONFIG_KEYS.smsProvider.env}=${provider}`);
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${env} must be an https:// URL (got "${text}")`);
    return undefined;
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) return text;
  problems.push(`${env} must be an https:// URL (http:// only to this machine: localhost, 127.0.0.1 or [::1]) (got "${text}")`);
  return undefined;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
