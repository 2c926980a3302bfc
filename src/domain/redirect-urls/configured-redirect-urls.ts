import { REDIRECT_URL_TYPES, type RedirectUrlType } from './redirect-urls.js';
import { allowedRedirectUrlProblem, allTypes, isRedirectUrlType, type RedirectUrl, type RedirectUrlTypeSetting } from './redirect-url.js';

/**
 * Reads the configured redirect URLs. `list` is the comma-separated form (UNDERSTUDY_REDIRECT_URLS,
 * or a string in the file): every URL allowed for every type, the first the default of each.
 * `perType` is the file's structured form, `{"login": [...], "discovery": [...]}`: each type's
 * first URL is its default. A JSON array of URLs means the same as the comma-separated form.
 * Returns the URLs (in the order first seen) or, for each thing wrong, a line saying what.
 */
export function parseConfiguredRedirectUrls(value: unknown, name: string): { urls: RedirectUrl[]; problems: string[] } {
  if (value === undefined || value === null) return { urls: [], problems: [] };
  if (typeof value === 'string') return fromList(value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''), name);
  if (Array.isArray(value)) {
    if (!value.every((entry) => typeof entry === 'string')) return { urls: [], problems: [`${name} must list URLs as strings`] };
    return fromList(value as string[], name);
  }
  if (typeof value === 'object') return fromPerType(value as Record<string, unknown>, name);
  return { urls: [], problems: [`${name} must be a comma-separated string, a list of URLs, or an object of lists by type (${REDIRECT_URL_TYPES.join(', ')})`] };
}

function fromList(list: readonly string[], name: string): { urls: RedirectUrl[]; problems: string[] } {
  const problems: string[] = [];
  const seen = new Set<string>();
  const urls: RedirectUrl[] = [];
  for (const [index, url] of list.entries()) {
    const problem = allowedRedirectUrlProblem(url);
    if (problem !== undefined) problems.push(`${name}: "${printable(url)}" ${problem} (use https://, http:// only for localhost, without user:password@)`);
    else if (seen.has(url)) problems.push(`${name} lists "${printable(url)}" twice`);
    seen.add(url);
    urls.push({ url, types: allTypes(index === 0) });
  }
  return { urls: problems.length === 0 ? urls : [], problems };
}

function fromPerType(object: Record<string, unknown>, name: string): { urls: RedirectUrl[]; problems: string[] } {
  const problems: string[] = [];
  const byUrl = new Map<string, Map<RedirectUrlType, boolean>>();
  for (const [type, list] of Object.entries(object)) {
    if (!isRedirectUrlType(type)) {
      problems.push(`${name} has an unknown type "${printable(type)}": use ${REDIRECT_URL_TYPES.join(', ')}`);
      continue;
    }
    if (!Array.isArray(list) || !list.every((entry) => typeof entry === 'string')) {
      problems.push(`${name}.${type} must be a list of URLs (the first is the default for ${type})`);
      continue;
    }
    for (const [index, url] of (list as string[]).entries()) {
      const problem = allowedRedirectUrlProblem(url);
      if (problem !== undefined) {
        problems.push(`${name}.${type}: "${printable(url)}" ${problem} (use https://, http:// only for localhost, without user:password@)`);
        continue;
      }
      const types = byUrl.get(url) ?? new Map<RedirectUrlType, boolean>();
      if (types.has(type)) problems.push(`${name}.${type} lists "${printable(url)}" twice`);
      types.set(type, index === 0);
      byUrl.set(url, types);
    }
  }
  if (problems.length > 0) return { urls: [], problems };
  const urls = [...byUrl].map(([url, types]): RedirectUrl => ({
    url,
    types: REDIRECT_URL_TYPES.filter((type) => types.has(type)).map((type): RedirectUrlTypeSetting => ({ type, isDefault: types.get(type) === true })),
  }));
  return { urls, problems };
}

/** A bad value quoted in a startup error: shortened, with control characters shown as escapes. */
function printable(text: string): string {
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return JSON.stringify(short).slice(1, -1);
}
