import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createApp, type App } from './app.js';
import type { Config } from './config/schema.js';
import { AuditRecorder } from './domain/audit/audit-recorder.js';
import { bootstrapProject, type BootstrapResult } from './domain/projects/project-bootstrap.js';
import { systemClock, type Clock } from './platform/clock.js';
import { IdGenerator } from './platform/ids.js';
import { createLogger, type Logger } from './platform/logger.js';
import { cryptoRandom, type Random } from './platform/random.js';
import { openStore, sqliteFileIn } from './storage/open-store.js';
import type { Store } from './storage/store.js';

export interface RunningServer {
  readonly url: string;
  readonly app: App;
  readonly store: Store;
  readonly bootstrap: BootstrapResult;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  /** Where first-start credentials are announced; the CLI passes stdout. Never the log. */
  readonly announce?: (text: string) => void;
}

export const CREDENTIALS_FILE = 'credentials.json';

/** Opens (and migrates) the database, makes sure the project exists, and writes first-start credentials. */
export async function initialize(config: Config, options: StartOptions = {}): Promise<{ store: Store; bootstrap: BootstrapResult }> {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  mkdirSync(config.dataDir, { recursive: true });
  const store = await openStore({ databaseUrl: config.databaseUrl, sqliteFile: sqliteFileIn(config.dataDir) });
  try {
    const audit = new AuditRecorder({ ids: new IdGenerator(random, 'test'), clock });
    const configured =
      config.projectId !== undefined && config.projectSecret !== undefined ? { projectId: config.projectId, projectSecret: config.projectSecret } : undefined;
    const bootstrap = await bootstrapProject({ store, random, clock, audit }, configured);
    if (bootstrap.generatedSecret !== undefined) {
      const file = writeCredentials(config.dataDir, bootstrap.project.projectId, bootstrap.generatedSecret);
      options.announce?.(describeNewCredentials(bootstrap.project.projectId, bootstrap.generatedSecret, file));
    }
    return { store, bootstrap };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Starts serving: the `understudy serve` / `npm start` path. */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const { store, bootstrap } = await initialize(config, options);
  const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
  const app = createApp({
    store,
    project: bootstrap.project,
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    https,
    ...(options.clock && { clock: options.clock }),
    ...(options.random && { random: options.random }),
  });
  try {
    await app.http.listen({ host: config.host, port: config.port });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = app.http.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${https ? 'https' : 'http'}://${host}:${port}`;
  if (store.dialect === 'sqlite') logger.info({ database: resolve(sqliteFileIn(config.dataDir)) }, 'using the embedded SQLite database');
  logger.info({ url, project_id: bootstrap.project.projectId }, 'understudy is listening');
  return {
    url,
    app,
    store,
    bootstrap,
    async close(): Promise<void> {
      // Stop accepting connections and let in-flight requests finish, then release the database.
      await app.http.close();
      await store.close();
    },
  };
}

function writeCredentials(dataDir: string, projectId: string, secret: string): string {
  const file = join(dataDir, CREDENTIALS_FILE);
  writeFileSync(file, `${JSON.stringify({ project_id: projectId, secret }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

function describeNewCredentials(projectId: string, secret: string, file: string): string {
  return [
    '',
    'Created a new Understudy test project. Use these credentials with the stytch SDK:',
    '',
    `  project_id: ${projectId}`,
    `  secret:     ${secret}`,
    '',
    `They are also in ${file} (readable only by you). The secret is not shown again.`,
    '',
  ].join('\n');
}
