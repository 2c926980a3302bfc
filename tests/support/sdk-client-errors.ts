import { ClientError } from 'stytch';
import { expect } from 'vitest';

/** The SDK's own refusal (a ClientError, e.g. of its local authorization check), failing the test if the call succeeds. */
export async function clientErrorOf(call: Promise<unknown>): Promise<ClientError> {
  const error = await call.then(
    (value) => {
      throw new Error(`expected a ClientError, but the call succeeded: ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ClientError);
  return error as ClientError;
}

/** The code of the SDK's local refusal (`invalid_permissions`, `tenancy_mismatch`, …). */
export async function localCode(call: Promise<unknown>): Promise<string> {
  return (await clientErrorOf(call)).code;
}
