import { EMAIL_LOCALES, type EmailLocale } from '../mail/outgoing-email.js';
import { emailSignInError } from './errors.js';

/** The `locale` of a send (or of an authenticate call): one of Stytch's four; English when omitted or empty. */
export function checkLocale(locale: string | undefined): EmailLocale {
  if (locale === undefined || locale === '') return 'en';
  const known = EMAIL_LOCALES.find((candidate) => candidate === locale);
  if (known === undefined) throw emailSignInError('invalid_locale');
  return known;
}
