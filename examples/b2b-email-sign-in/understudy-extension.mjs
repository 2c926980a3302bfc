/**
 * Understudy extension: calls one of Understudy's own endpoints under /v1/b2b/impersonation…
 * (support access, impersonation history), which are not part of Stytch's API and so not in the
 * official SDK. Like the SDK's admin calls made with `options.authorization`, each call carries the
 * project's credentials and the signed-in member's session as `X-Stytch-Member-Session`, so
 * Understudy answers for that member with that member's roles (docs/impersonation.md).
 *
 * Errors are thrown in the SDK's shape (`status_code`, `error_type`, `error_message`), so the app
 * handles both alike. Everything else in this app uses the official SDK.
 */
export function understudyExtension({ url, projectId, secret }) {
  const base = url.replace(/\/+$/, '');
  const authorization = `Basic ${Buffer.from(`${projectId}:${secret}`).toString('base64')}`;

  return async function call(method, path, { sessionToken, query, body } = {}) {
    const target = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries(query ?? {})) if (value !== undefined) target.searchParams.set(name, value);
    const response = await fetch(target, {
      method,
      headers: {
        authorization,
        ...(sessionToken !== undefined && { 'x-stytch-member-session': sessionToken }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = {};
    }
    if (!response.ok) {
      throw Object.assign(new Error(answer.error_message ?? `Understudy answered ${response.status}.`), {
        status_code: response.status,
        error_type: typeof answer.error_type === 'string' ? answer.error_type : 'unexpected_response',
        error_message: answer.error_message ?? `Understudy answered ${response.status}.`,
      });
    }
    return answer;
  };
}
