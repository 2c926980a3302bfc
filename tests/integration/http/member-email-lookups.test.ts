import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImpersonationCast, mintBody, mintRaw, type ImpersonationCast } from '../../support/impersonation.js';
import { STORES } from '../../support/stores.js';
import { startTestServer, type TestServer } from '../../support/test-server.js';

/** `ann-1@example.org` -> `ＡＮＮ－１＠ｅｘａｍｐｌｅ．ｏｒｇ`: every printable ASCII character in its full-width form. */
function fullWidth(text: string): string {
  return [...text.toUpperCase()].map((character) => String.fromCodePoint((character.codePointAt(0) as number) + 0xfee0)).join('');
}

/**
 * An operator mints impersonation tokens by email address too. The address must be looked up in
 * the form it is stored in (NFKC, lower case), so a full-width spelling names the same member as
 * members.get and members.search do, rather than none.
 */
describe.each(STORES)('email lookups of impersonation mint ($name)', ({ name: store }) => {
  let server: TestServer;
  let cast: ImpersonationCast;

  beforeAll(async () => {
    server = await startTestServer({ store });
    cast = await createImpersonationCast(server.client);
  });
  afterAll(async () => server?.stop());

  it('mints for the member whose address is written in full-width characters', async () => {
    const { organization, member } = cast;
    const response = await mintRaw(server, mintBody({ organizationId: organization.organization_id, emailAddress: fullWidth(member.email_address) }));
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.member_id).toBe(member.member_id);
  });
});
