import { describe, expect, it } from 'vitest';
import { type FailedDelivery, MAX_CONCURRENT_SENDS, MAX_PENDING_MESSAGES, MailDispatcher } from '../../src/domain/mail/mail-dispatcher.js';
import type { MailMessage, MailStatus } from '../../src/domain/mail/mail-message.js';
import type { MailOutboxStore } from '../../src/domain/mail/mail-outbox-store.js';
import type { MailTransport, SendResult } from '../../src/domain/mail/mail-transport.js';
import type { OutgoingEmail } from '../../src/domain/mail/outgoing-email.js';
import { classify } from '../../src/mail/smtp-transport.js';
import { ManualClock } from '../../src/platform/clock.js';
import { IdGenerator } from '../../src/platform/ids.js';
import { cryptoRandom } from '../../src/platform/random.js';

const CONTEXT = { requestId: 'request-test-unit', actor: { type: 'system' } } as const;
const EMAIL: OutgoingEmail = { template: 'otp_login', to: 'ada@example.com', locale: 'en', code: '123456', expiresAt: '2026-01-01T00:10:00Z', organizationId: null, memberId: null };

type Update = { status: MailStatus; attempts: number; lastReply: string | null };

/** An in-memory store whose status updates can be held back, to place `close` between two steps. */
function memoryStore(options: { holdUpdate?: (update: Update) => Promise<void> } = {}) {
  const messages = new Map<string, MailMessage>();
  const updates: Update[] = [];
  const ports: { mailOutbox: MailOutboxStore } = {
    mailOutbox: {
      insertMessage: async (message) => void messages.set(message.messageId, message),
      pruneMessages: async () => {},
      eraseOutboxSecrets: async () => 0,
      updateDelivery: async (messageId, delivery) => {
        const update = { status: delivery.status, attempts: delivery.attempts, lastReply: delivery.lastReply };
        await options.holdUpdate?.(update);
        updates.push(update);
        const message = messages.get(messageId);
        if (message !== undefined) messages.set(messageId, { ...message, ...update });
      },
      listMessages: async () => [...messages.values()].reverse(),
      findMessage: async (messageId) => messages.get(messageId),
    },
  };
  return { store: { ...ports, transaction: <T>(work: (tx: typeof ports) => Promise<T>) => work(ports) }, messages, updates };
}

function scriptedTransport(results: readonly SendResult[]): MailTransport & { sent: number } {
  const transport = {
    sent: 0,
    async send(): Promise<SendResult> {
      const result = results[Math.min(transport.sent, results.length - 1)] as SendResult;
      transport.sent += 1;
      return result;
    },
    close() {},
  };
  return transport;
}

function dispatcher(store: ReturnType<typeof memoryStore>['store'], transport: MailTransport | undefined, extra: { retryDelaysMs?: number[]; onFailure?: (failure: FailedDelivery) => void } = {}) {
  return new MailDispatcher({
    store,
    clock: new ManualClock(),
    ids: new IdGenerator(cryptoRandom, 'test'),
    render: () => ({ subject: 'S', text: 'T 123456', html: '<p>123456</p>' }),
    transport,
    retryDelaysMs: extra.retryDelaysMs ?? [1, 1, 1, 1],
    onFailure: extra.onFailure,
  });
}

const TEMPORARY: SendResult = { ok: false, permanent: false, reply: '421 busy' };

describe('MailDispatcher', () => {
  it('returns nothing to wait for, and keeps the secret only in outbox mode', async () => {
    const outbox = memoryStore();
    const keeping = dispatcher(outbox.store, undefined);
    expect(keeping.deliver(CONTEXT, EMAIL)).toBeUndefined();
    await keeping.idle();
    expect([...outbox.messages.values()][0]).toMatchObject({ mode: 'outbox', status: 'stored', code: '123456', text: 'T 123456' });

    const smtp = memoryStore();
    const sending = dispatcher(smtp.store, scriptedTransport([{ ok: true, reply: '250 ok' }]));
    sending.deliver(CONTEXT, EMAIL);
    await sending.idle();
    expect([...smtp.messages.values()][0]).toMatchObject({ mode: 'smtp', status: 'sent', attempts: 1, lastReply: '250 ok', code: null, text: null, html: null });
  });

  it('makes at most 1 + the number of delays attempts, then reports the failure once', async () => {
    const { store, updates } = memoryStore();
    const failures: FailedDelivery[] = [];
    const transport = scriptedTransport([TEMPORARY]);
    const mail = dispatcher(store, transport, { retryDelaysMs: [1, 1], onFailure: (failure) => failures.push(failure) });
    mail.deliver(CONTEXT, EMAIL);
    await mail.idle();
    expect(transport.sent).toBe(3);
    expect(updates.map((update) => `${update.status}/${update.attempts}`)).toEqual(['queued/1', 'queued/2', 'failed/3']);
    expect(failures).toEqual([expect.objectContaining({ attempts: 3, reply: '421 busy', to: 'ada@example.com', requestId: 'request-test-unit' })]);
    expect(JSON.stringify(failures)).not.toContain('123456');
  });

  it('ends a retry when close runs while the previous attempt is still being recorded', async () => {
    let releaseQueued: (() => void) | undefined;
    let queuedReached: (() => void) | undefined;
    const reached = new Promise<void>((resolve) => {
      queuedReached = resolve;
    });
    const { store, updates } = memoryStore({
      holdUpdate: (update) =>
        update.status === 'queued'
          ? new Promise<void>((resolve) => {
              releaseQueued = resolve;
              queuedReached?.();
            })
          : Promise.resolve(),
    });
    const transport = scriptedTransport([TEMPORARY]);
    const mail = dispatcher(store, transport, { retryDelaysMs: [60_000] });
    mail.deliver(CONTEXT, EMAIL);
    await reached;
    const closing = mail.close();
    releaseQueued?.();
    const started = performance.now();
    await closing;
    expect(performance.now() - started).toBeLessThan(1000);
    expect(transport.sent).toBe(1);
    expect(updates.at(-1)).toMatchObject({ status: 'failed', attempts: 1, lastReply: '421 busy (not retried: the server stopped)' });
  });

  it('drops, without throwing, what is handed over after close', async () => {
    const { store, messages } = memoryStore();
    const mail = dispatcher(store, undefined);
    await mail.close();
    expect(() => mail.deliver(CONTEXT, EMAIL)).not.toThrow();
    await mail.idle();
    expect(messages.size).toBe(0);
  });

  it('never throws from deliver, even when rendering or the database fails', async () => {
    const { store } = memoryStore();
    const broken = { ...store, transaction: async () => Promise.reject(new Error('database is away')) };
    const problems: unknown[] = [];
    const mail = new MailDispatcher({
      store: broken,
      clock: new ManualClock(),
      ids: new IdGenerator(cryptoRandom, 'test'),
      render: () => ({ subject: 'S', text: 'T', html: 'H' }),
      onProblem: (problem) => problems.push(problem.error),
    });
    expect(() => mail.deliver(CONTEXT, EMAIL)).not.toThrow();
    await mail.idle();
    expect(problems).toEqual([new Error('database is away')]);
  });
});

describe('SMTP failures: temporary or permanent', () => {
  it.each([
    [{ responseCode: 421, response: '421 4.7.0 Try again later', code: 'EENVELOPE' }, false, '421 4.7.0 Try again later'],
    [{ responseCode: 450, response: '450 mailbox busy' }, false, '450 mailbox busy'],
    [{ responseCode: 550, response: '550 5.1.1 No such user', code: 'EENVELOPE' }, true, '550 5.1.1 No such user'],
    [{ responseCode: 535, response: '535 Authentication failed', code: 'EAUTH' }, true, '535 Authentication failed'],
    [{ code: 'ECONNECTION', message: 'connect ECONNREFUSED 127.0.0.1:2525' }, false, 'ECONNECTION: connect ECONNREFUSED 127.0.0.1:2525'],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, false, 'ETIMEDOUT: Greeting never received'],
    [{ code: 'ETLS', message: 'self-signed certificate' }, false, 'ETLS: self-signed certificate'],
    [{ code: 'EAUTH', message: 'Missing credentials for "PLAIN"' }, true, 'EAUTH: Missing credentials for "PLAIN"'],
  ])('%o', (error, permanent, reply) => {
    expect(classify(Object.assign(new Error(String((error as { message?: string }).message ?? 'x')), error))).toEqual({ ok: false, permanent, reply });
  });

  it('keeps replies on one line and bounded', () => {
    const result = classify(Object.assign(new Error('x'), { responseCode: 451, response: `451 first\r\nsecond ${'y'.repeat(600)}` }));
    expect(result.reply).toMatch(/^451 first second y+…$/);
    expect(result.reply.length).toBe(501);
  });
});

describe('MailDispatcher bounds', () => {
  it(`never has more than ${MAX_CONCURRENT_SENDS} SMTP attempts under way, however many messages arrive`, async () => {
    const { store, updates } = memoryStore();
    let open = 0;
    let most = 0;
    const releases: (() => void)[] = [];
    const transport: MailTransport = {
      async send(): Promise<SendResult> {
        open += 1;
        most = Math.max(most, open);
        await new Promise<void>((resolve) => releases.push(resolve));
        open -= 1;
        return { ok: true, reply: '250 ok' };
      },
      close() {},
    };
    const mail = dispatcher(store, transport);
    for (let index = 0; index < 20; index += 1) mail.deliver(CONTEXT, EMAIL);
    // Release the attempts one by one as they arrive, until all 20 went through.
    for (let released = 0; released < 20; released += 1) {
      while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
      (releases.shift() as () => void)();
    }
    await mail.idle();
    expect(most).toBe(MAX_CONCURRENT_SENDS);
    expect(updates.filter((update) => update.status === 'sent')).toHaveLength(20);
  });

  it(`records a message as failed at once, without sending it, when ${MAX_PENDING_MESSAGES} are already waiting`, async () => {
    const { store, updates } = memoryStore();
    const releases: (() => void)[] = [];
    const transport: MailTransport & { sent: number } = {
      sent: 0,
      async send(): Promise<SendResult> {
        transport.sent += 1;
        await new Promise<void>((resolve) => releases.push(resolve));
        return { ok: true, reply: '250 ok' };
      },
      close() {},
    };
    const failures: FailedDelivery[] = [];
    const mail = dispatcher(store, transport, { onFailure: (failure) => failures.push(failure) });
    for (let index = 0; index < MAX_PENDING_MESSAGES + 1; index += 1) mail.deliver(CONTEXT, EMAIL);
    while (failures.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ attempts: 0, reply: expect.stringContaining('already waiting') });
    expect(failures[0]?.reply).not.toContain('123456');
    // Let the rest go through.
    const drain = setInterval(() => {
      for (const release of releases.splice(0)) release();
    }, 1);
    await mail.idle();
    clearInterval(drain);
    expect(transport.sent).toBe(MAX_PENDING_MESSAGES);
    expect(updates.filter((update) => update.status === 'sent')).toHaveLength(MAX_PENDING_MESSAGES);
  });
});
