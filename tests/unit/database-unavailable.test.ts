import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/storage/database-unavailable.js';

/** Which database failures are answered 503 server_unavailable (docs/reliability.md, "Database outage"). */
const withCode = (code: string, message = 'failure'): Error => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['a reset connection', withCode('ECONNRESET')],
    ['an unresolvable host', withCode('ENOTFOUND')],
    ['a refusal from every address of a host name', Object.assign(new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]), { code: 'ECONNREFUSED' })],
    ['an AggregateError without a code of its own', new AggregateError([withCode('ECONNREFUSED'), withCode('ETIMEDOUT')])],
    ['PostgreSQL admin_shutdown (57P01)', withCode('57P01', 'terminating connection due to administrator command')],
    ['PostgreSQL crash_shutdown (57P02)', withCode('57P02')],
    ['PostgreSQL cannot_connect_now (57P03)', withCode('57P03', 'the database system is starting up')],
    ['PostgreSQL too_many_connections (53300)', withCode('53300')],
    ['PostgreSQL statement_timeout (57014)', withCode('57014', 'canceling statement due to statement timeout')],
    ['PostgreSQL connection_failure (08006)', withCode('08006')],
    ['a socket closed by the server', new Error('Connection terminated unexpectedly')],
    ["the pool's connect timeout", new Error('timeout exceeded when trying to connect')],
    ["the client's connect timeout", new Error('Connection terminated due to connection timeout')],
    ['the client-side query timeout', new Error('Query read timeout')],
    ['a client broken earlier', new Error('Client has encountered a connection error and is not queryable')],
    ['SQLite busy after busy_timeout', withCode('SQLITE_BUSY', 'database is locked')],
    ['SQLite busy (snapshot)', withCode('SQLITE_BUSY_SNAPSHOT')],
  ])('recognises %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation (23505)', withCode('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error (42601)', withCode('42601')],
    ['a SQLite constraint failure', withCode('SQLITE_CONSTRAINT_UNIQUE')],
    ['a plain error mentioning a connection', new Error('the connection string is invalid')],
    ['a look-alike code that is not a SQLSTATE', withCode('08')],
    ['an AggregateError mixing causes', new AggregateError([withCode('ECONNREFUSED'), new Error('bug')])],
    ['an empty AggregateError', new AggregateError([])],
    ['a string', 'ECONNREFUSED'],
    ['null', null],
    ['undefined', undefined],
  ])('does not treat %s as an outage (it stays a 500 or its own error)', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
