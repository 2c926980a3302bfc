import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { totpCode } from '../../../src/crypto/totp.js';
import type { OperatorsService } from '../../../src/domain/operators/operators-service.js';
import type { ManualClock } from '../../../src/platform/clock.js';

/** The system Chromium (CI installs it); the browser suites skip, saying so, when it is missing. */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM_PATH);
const NO_CHROMIUM_REASON = `${CHROMIUM_PATH} is not installed; the browser suites need it (CI installs it)`;
if (!HAS_CHROMIUM) process.stderr.write(`[understudy tests] browser suites skipped: ${NO_CHROMIUM_REASON}\n`);

export const SCREENSHOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../screenshots');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run'],
  });
}

/** A full-page screenshot of what the operator sees, kept in tests/screenshots/ for review. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

export interface ConsoleOperator {
  readonly operatorId: string;
  readonly emailAddress: string;
  readonly password: string;
  /** Null for viewers, who sign in with a password only. */
  readonly totpSecret: string | null;
}

/**
 * What went wrong in a context's pages: script errors, console errors (a CSP violation of an inline
 * script or style shows up here) and answers of 400 or more (except the browser's own favicon probe).
 */
export function collectPageErrors(context: BrowserContext): string[] {
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
    page.on('console', (message) => {
      // Failed loads are reported below with their URL.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') errors.push(`${response.status()} ${response.url()}`);
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return errors;
}

/** The text as rendered for a person to read (hidden elements left out). */
export function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText is the rendered text a user sees, which is what these tests check.
  return locator.innerText();
}

/** Fills the password form, as a person would. */
export async function submitPassword(page: Page, baseUrl: string, emailAddress: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/console/login`);
  await page.getByLabel('Email address').fill(emailAddress);
  await page.getByLabel('Password').fill(password);
  await Promise.all([page.waitForResponse((response) => response.request().method() === 'POST'), page.getByRole('button', { name: 'Continue' }).click()]);
  await page.waitForLoadState();
}

/**
 * Signs in through the pages: password, then (for operators with TOTP) a current code. The server's
 * clock is moved to the next 30-second step first, because the server refuses a code's replay.
 */
export async function signIn(page: Page, baseUrl: string, clock: ManualClock, operator: ConsoleOperator): Promise<void> {
  await submitPassword(page, baseUrl, operator.emailAddress, operator.password);
  if (operator.totpSecret !== null) {
    await page.waitForURL(/\/console\/login\/totp/);
    clock.advance(30_000);
    await page.getByLabel('6-digit code from your authenticator app').fill(totpCode(operator.totpSecret, clock.now()));
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.waitForURL(/\/console\/organizations/);
}

let operatorCount = 0;

/** Creates an operator directly through the service (as `understudy operators create` does). */
export async function createOperator(services: { operators: OperatorsService }, role: 'admin' | 'support' | 'viewer', label: string): Promise<ConsoleOperator> {
  operatorCount += 1;
  const password = `correct horse battery ${operatorCount}`;
  const created = await services.operators.create(
    { requestId: 'test', actor: { type: 'cli' } },
    { emailAddress: `${label}-${operatorCount}@support.example`, name: `${label} ${operatorCount}`, role, password },
  );
  return { operatorId: created.operator.operatorId, emailAddress: created.operator.emailAddress, password, totpSecret: created.totpSecret };
}

/**
 * A screenshot of a page that has not finished loading (Playwright's own waits for the load's
 * fonts), taken straight through the DevTools protocol.
 */
export async function screenshotWhileLoading(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const session = await page.context().newCDPSession(page);
  const { data } = (await session.send('Page.captureScreenshot', { format: 'png' })) as { data: string };
  await session.detach();
  writeFileSync(join(SCREENSHOT_DIR, `${name}.png`), Buffer.from(data, 'base64'));
}
