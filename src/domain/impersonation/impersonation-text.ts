/**
 * What text an impersonation record may hold. Reasons, impersonator ids and email addresses end
 * up in operators' terminals (CLI tables) and in audit exports, so characters that steer a terminal
 * or reorder what is shown are refused when a token is minted.
 */

/**
 * C0 controls except tab, line feed and carriage return (a reason typed in a text box may span
 * lines), DEL, C1 controls, and the Unicode bidirectional formatting characters.
 */
const CONTROL_IN_TEXT = /(?![\t\n\r])[\p{Cc}\p{Bidi_Control}]/u;
/** The same, and tab, line feed and carriage return too: for one-line values such as ids and addresses. */
const CONTROL_IN_LINE = /[\p{Cc}\p{Bidi_Control}]/u;

/** True when `text` holds a control or bidirectional formatting character; tab and line breaks pass. */
export function hasControlCharacters(text: string): boolean {
  return CONTROL_IN_TEXT.test(text);
}

/** True when a one-line value holds any control or bidirectional formatting character, tab and line breaks included. */
export function hasLineControlCharacters(text: string): boolean {
  return CONTROL_IN_LINE.test(text);
}

/** Hosts where a plain `http://` redirect URL is allowed: a developer's own machine. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An impersonation redirect URL as docs/impersonation.md states it: `https://`, or `http://` on
 * localhost (127.0.0.1, [::1]) for development, with no `user:password@` part and no control or
 * whitespace characters. Returns undefined when it is acceptable, otherwise what is wrong.
 */
export function redirectUrlProblem(value: string): string | undefined {
  if (value.length > 2048) return 'is longer than 2048 characters';
  if (/\s/u.test(value) || hasLineControlCharacters(value)) return 'contains whitespace or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL';
  }
  if (url.username !== '' || url.password !== '' || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/iu.test(value)) return 'must not contain user:password@';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  return 'must be an https:// URL (http:// only for localhost)';
}
