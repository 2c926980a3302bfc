import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { requiresStartTls } from '../../src/mail/smtp-transport.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig({ env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('mail configuration', () => {
  it('defaults to the outbox and the project name "Understudy"', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ projectName: 'Understudy', smtpUrl: undefined, smtpFrom: undefined, smtpReplyTo: undefined });
  });

  it('reads the SMTP settings and the project name', () => {
    const config = loadConfig({
      env: {
        UNDERSTUDY_PROJECT_NAME: 'Acme Cloud',
        UNDERSTUDY_SMTP_URL: 'smtps://mailer:s3cret@mail.example.com:465',
        UNDERSTUDY_SMTP_FROM: 'Acme <login@acme.example>',
        UNDERSTUDY_SMTP_REPLY_TO: 'help@acme.example',
      },
    });
    expect(config).toMatchObject({ projectName: 'Acme Cloud', smtpUrl: 'smtps://mailer:s3cret@mail.example.com:465', smtpFrom: 'Acme <login@acme.example>', smtpReplyTo: 'help@acme.example' });
  });

  it('requires a From address with an SMTP URL', () => {
    expect(problemsOf({ UNDERSTUDY_SMTP_URL: 'smtp://mail.example.com:587' })).toEqual([
      'UNDERSTUDY_SMTP_FROM is required with UNDERSTUDY_SMTP_URL: the From address of sent email',
    ]);
  });

  it('refuses other schemes without echoing the URL, which may hold the password', () => {
    const problems = problemsOf({ UNDERSTUDY_SMTP_URL: 'https://mailer:hunter2-password@mail.example.com', UNDERSTUDY_SMTP_FROM: 'login@acme.example' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^UNDERSTUDY_SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL .*: it uses https:\/\/ instead$/);
    expect(problems.join('\n')).not.toContain('hunter2');
    expect(problemsOf({ UNDERSTUDY_SMTP_URL: 'smtp//hunter2-password', UNDERSTUDY_SMTP_FROM: 'login@acme.example' })).toEqual([
      expect.stringMatching(/it is not a URL$/),
    ]);
  });

  it('refuses From and Reply-To values that are not one address', () => {
    const problems = problemsOf({ UNDERSTUDY_SMTP_URL: 'smtp://mail.example.com', UNDERSTUDY_SMTP_FROM: 'not an address', UNDERSTUDY_SMTP_REPLY_TO: 'a@example.com\nBcc: b@example.com' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^UNDERSTUDY_SMTP_FROM must be an email address/);
    expect(problems[1]).toMatch(/^UNDERSTUDY_SMTP_REPLY_TO must be an email address/);
  });

  it('refuses an empty-looking or multi-line project name', () => {
    expect(problemsOf({ UNDERSTUDY_PROJECT_NAME: '   ' })).toEqual([expect.stringMatching(/^UNDERSTUDY_PROJECT_NAME must be 1 to 100 characters/)]);
    expect(problemsOf({ UNDERSTUDY_PROJECT_NAME: 'Acme\nCloud' })).toHaveLength(1);
  });
});

describe('STARTTLS on smtp:// URLs', () => {
  it('is required for every host but this machine, unless the URL says otherwise', () => {
    expect(requiresStartTls('smtp://mailer:secret@smtp.example.com:587')).toBe(true);
    expect(requiresStartTls('smtp://10.0.0.5:25')).toBe(true);
    expect(requiresStartTls('smtp://[2001:db8::1]:25')).toBe(true);
    expect(requiresStartTls('smtp://localhost:25')).toBe(false);
    expect(requiresStartTls('smtp://127.0.0.1:2525')).toBe(false);
    expect(requiresStartTls('smtp://[::1]:25')).toBe(false);
    // smtps:// is TLS from the first byte; nothing to upgrade.
    expect(requiresStartTls('smtps://mailer:secret@smtp.example.com:465')).toBe(false);
  });
});
