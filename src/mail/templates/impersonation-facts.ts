import type { EmailLocale, ImpersonationNotice } from '../../domain/mail/outgoing-email.js';
import type { ImpersonationText } from './catalog.js';

/**
 * The labelled facts of an impersonation notice, in plain text (escaped where HTML is built): who,
 * as whom (admins' copies), why, since and until when, and the restriction when there is one. Times
 * are written in UTC, since the reader's time zone is unknown.
 */
export function impersonationFacts(text: ImpersonationText, notice: ImpersonationNotice, locale: EmailLocale): [string, string][] {
  const impersonator = oneLine(notice.impersonatorEmailAddress);
  const facts: [string, string][] = [[text.who, notice.delegated ? text.delegated(impersonator) : impersonator]];
  if (notice.memberEmailAddress !== undefined) facts.push([text.member, oneLine(notice.memberEmailAddress)]);
  facts.push([text.why, oneLine(notice.reason)], [text.started, utc(notice.startedAt, locale)], [text.until, utc(notice.expiresAt, locale)]);
  const restrictions = notice.restrictions;
  if (restrictions !== null) facts.push([text.restrictions, restrictions === 'read_only' ? text.readOnly : restrictions.map(oneLine).join(', ')]);
  return facts;
}

function utc(timestamp: string, locale: EmailLocale): string {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  return `${new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(date)} UTC`;
}

/** A reason may span lines; in a fact it is one line. */
function oneLine(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}
