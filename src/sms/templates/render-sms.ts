import { SMS_LOCALES, type OutgoingSms, type SmsLocale } from '../../domain/sms/outgoing-sms.js';

/** The organization's name as the text gives it: one line, and short, so the message stays one SMS part where it can. */
const MAX_NAME_LENGTH = 40;

interface Wording {
  readonly organization: string;
  readonly code: string;
  readonly minutes: number;
}

/** One sentence per locale: who it is from, the code, and how long it works. */
const TEMPLATES: Readonly<Record<SmsLocale, (wording: Wording) => string>> = {
  en: ({ organization, code, minutes }) => `Your ${organization} verification code is ${code}. It expires in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
  es: ({ organization, code, minutes }) => `Tu código de verificación de ${organization} es ${code}. Caduca en ${minutes} ${minutes === 1 ? 'minuto' : 'minutos'}.`,
  'pt-br': ({ organization, code, minutes }) => `Seu código de verificação de ${organization} é ${code}. Ele expira em ${minutes} ${minutes === 1 ? 'minuto' : 'minutos'}.`,
  fr: ({ organization, code, minutes }) => `Votre code de vérification ${organization} est ${code}. Il expire dans ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
  it: ({ organization, code, minutes }) => `Il tuo codice di verifica ${organization} è ${code}. Scade tra ${minutes} ${minutes === 1 ? 'minuto' : 'minuti'}.`,
  'de-DE': ({ organization, code, minutes }) => `Ihr Bestätigungscode für ${organization} lautet ${code}. Er läuft in ${minutes} ${minutes === 1 ? 'Minute' : 'Minuten'} ab.`,
  'zh-Hans': ({ organization, code, minutes }) => `您的 ${organization} 验证码是 ${code}，${minutes} 分钟后过期。`,
  'ca-ES': ({ organization, code, minutes }) => `El teu codi de verificació de ${organization} és ${code}. Caduca d'aquí a ${minutes} ${minutes === 1 ? 'minut' : 'minuts'}.`,
};

/** The text of an SMS in its locale (English for an unknown one); the expiry counted in whole minutes from `now`, at least one. */
export function renderSms(sms: OutgoingSms, now: Date): string {
  const locale: SmsLocale = SMS_LOCALES.includes(sms.locale) ? sms.locale : 'en';
  const minutes = Math.max(1, Math.round((Date.parse(sms.expiresAt) - now.getTime()) / 60_000));
  return TEMPLATES[locale]({ organization: organizationName(sms.organizationName), code: sms.code, minutes });
}

/**
 * Control characters and line breaks become spaces (a name must not add lines to the text). Format
 * characters (Unicode Cf: bidirectional overrides such as U+202E, zero-width spaces and joiners) and
 * lone surrogates are dropped: invisible, they would let a name reorder or hide the text around it,
 * making a code look like another or like someone else's. Long names are cut.
 */
function organizationName(name: string): string {
  const visible = name.replace(/[\p{Cf}\p{Cs}]+/gu, '');
  const oneLine = visible.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/\s+/g, ' ').trim();
  const characters = [...oneLine];
  return characters.length > MAX_NAME_LENGTH ? `${characters.slice(0, MAX_NAME_LENGTH - 1).join('')}…` : oneLine;
}
