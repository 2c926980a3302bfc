import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { CONFIG_KEYS } from '../../src/config/schema.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { makeSelfSignedCertificate, trustingDispatcher } from '../support/tls.js';
import { environmentOf, execForm, parseDockerfile, type Instruction, type Stage } from './dockerfile.js';

/**
 * The container files checked without a container runtime: what the Dockerfile builds from and
 * ships, what compose.yaml configures, and the health checks they run (executed here against a
 * real server). With a Docker daemon, the last suite builds the image and runs it.
 */
const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; files: string[]; bin: Record<string, string> };
const DOCKERFILE_TEXT = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const DOCKERFILE = parseDockerfile(DOCKERFILE_TEXT);
const COMPOSE_TEXT = readFileSync(join(ROOT, 'compose.yaml'), 'utf8');
const CONFIG_ENV_NAMES = new Set<string>(Object.values(CONFIG_KEYS).map((key) => key.env));
/** Read by the CLI beside the keys (the config file's path), so not in CONFIG_KEYS. */
const OTHER_UNDERSTUDY_VARIABLES = new Set(['UNDERSTUDY_CONFIG']);
const run = promisify(execFile);

const buildStage = DOCKERFILE.stages[0] as Stage;
const runtimeStage = DOCKERFILE.stages.at(-1) as Stage;
const runtimeEnvironment = environmentOf(runtimeStage);

function instructions(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

function lastInstruction(stage: Stage, keyword: string): Instruction | undefined {
  return instructions(stage, keyword).at(-1);
}

/** What package.json's "files" packs from docs/: the documents and the Grafana dashboard. */
function isPackedDoc(path: string): boolean {
  return /^docs\/.+\.md$/.test(path) || /^docs\/grafana\/[^/]+\.json$/.test(path);
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((entry) => statSync(join(directory, entry)).isFile())
    .map((entry) => entry.split(sep).join('/'));
}

/** .dockerignore's rules as Docker applies them: `*` within a segment, `**` across, `!` re-includes, the last match wins. */
function dockerIgnored(path: string): boolean {
  const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => ({ '**/': '(?:.*/)?', '**': '.*', '*': '[^/]*', '?': '[^/]' })[part] ?? part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))
        .join('');
      return { negated, regex: new RegExp(`^${source}$`) };
    });
  // A path is excluded when it or one of the folders it is in matches.
  const segments = path.split('/');
  const prefixes = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const rule of rules) if (prefixes.some((prefix) => rule.regex.test(prefix))) ignored = !rule.negated;
  return ignored;
}

/** Every `UNDERSTUDY_*` name in a text. */
function understudyVariables(text: string): string[] {
  return [...new Set(text.match(/\bUNDERSTUDY_[A-Z0-9_]+\b/g) ?? [])].sort();
}

describe('the Dockerfile', () => {
  it('builds on node:20-bookworm and runs on node:20-bookworm-slim', () => {
    expect(DOCKERFILE.stages.length).toBeGreaterThanOrEqual(2);
    expect(buildStage.from).toMatch(/^node:20-bookworm(-slim)?$/);
    expect(runtimeStage.from).toBe('node:20-bookworm-slim');
  });

  it('packs the package with npm pack, unpacks it and installs its dependencies with npm ci from the project lockfile, into the directory the runtime stage copies', () => {
    // One shell command per step, in order (the build stage's RUNs, split on `&&`).
    const steps = instructions(buildStage, 'RUN').flatMap((instruction) => instruction.rest.split('&&').map((step) => step.trim()));
    const pack = steps.map((step) => /^npm pack\b.*--pack-destination[= ](\S+)/.exec(step)).find((match) => match !== null);
    expect(pack, 'a step running npm pack --pack-destination').toBeDefined();
    const packDirectory = pack?.[1] ?? '';
    const indexOf = (pattern: RegExp): number => steps.findIndex((step) => pattern.test(step));
    // npm pack writes only into a directory that exists.
    expect(steps.slice(0, indexOf(/^npm pack\b/)).some((step) => /^mkdir (-p )?/.test(step) && step.split(/\s+/).includes(packDirectory))).toBe(true);
    // The tarball npm pack names after the package, unpacked without its `package/` folder.
    const untar = /^tar -xzf (\S+) -C (\S+) --strip-components=1$/.exec(steps[indexOf(/^tar /)] ?? '');
    expect(untar?.[1]).toBe(`${packDirectory}/${MANIFEST.name}-*.tgz`);
    const installation = untar?.[2] ?? '';
    expect(installation).toMatch(/^\//);
    // The project's lockfile beside the unpacked package.json, then npm ci there: the versions it pins, nothing resolved afresh.
    expect(steps[indexOf(/^cp /)]).toBe(`cp package-lock.json ${installation}/package-lock.json`);
    expect(steps[indexOf(/^cd /)]).toBe(`cd ${installation}`);
    const ci = indexOf(/^npm ci\b.*--omit=dev/);
    expect(ci).toBeGreaterThan(indexOf(/^cd /));
    expect(indexOf(/^cd /)).toBeGreaterThan(indexOf(/^cp /));
    expect(indexOf(/^cp /)).toBeGreaterThan(indexOf(/^tar /));
    expect(steps.filter((step) => /^npm (install|i|add)\b/.test(step)), 'no npm install, which would resolve versions afresh').toEqual([]);
    expect(steps.slice(ci + 1)).toContain(`node ${MANIFEST.bin.understudy} --version`);

    // npm ci installs only from a lockfile that matches the package.json it finds: the packed one, which is the project's.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { name?: string; version?: string; dependencies?: Record<string, string> }> };
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(lock.packages['']).toMatchObject({ name: MANIFEST.name, version: MANIFEST.version, dependencies: manifest.dependencies });

    // The runtime stage gets only that directory, and the `understudy` command linked to its bin.
    const copies = runtimeStage.instructions.filter((instruction) => instruction.keyword === 'COPY' || instruction.keyword === 'ADD');
    expect(copies.map((copy) => [copy.keyword, copy.flags.from, copy.rest])).toEqual([['COPY', buildStage.name, `${installation} ${installation}`]]);
    expect(instructions(runtimeStage, 'RUN').map((instruction) => instruction.rest)).toContain(`ln -s ${installation}/${MANIFEST.bin.understudy} /usr/local/bin/understudy`);
    expect(execForm(lastInstruction(runtimeStage, 'ENTRYPOINT')?.rest ?? '')).toEqual(Object.keys(MANIFEST.bin));
    expect(execForm(lastInstruction(runtimeStage, 'CMD')?.rest ?? '')).toEqual(['serve']);
  });

  it('sends the builder only what npm pack builds from (an allowlist), and no tests, local data or secrets', () => {
    const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', 'CHANGELOG.md'];
    needed.push(...filesUnder(join(ROOT, 'src')).map((file) => `src/${file}`), ...filesUnder(join(ROOT, 'docs')).map((file) => `docs/${file}`));
    expect(needed.filter(dockerIgnored)).toEqual([]);
    const kept = ['node_modules', 'dist', 'data', '.git', 'tests', 'bench', 'examples', 'scripts', '.env', 'data/understudy.db', 'master.key', 'credentials.json', 'key.pem', `${MANIFEST.name}-${MANIFEST.version}.tgz`];
    // Whatever else appears in a checkout stays out too, and secrets dropped into the folders that are sent.
    kept.push('backup.db', 'notes.txt', 'secrets/token', '.npmrc', 'docs/.env', 'docs/credentials.json', 'src/understudy.db', 'src/tls/server.key');
    expect(kept.filter((path) => !dockerIgnored(path))).toEqual([]);
  });

  it('npm pack lists the package files only: compiled JavaScript, the docs, README, LICENSE, CHANGELOG and package.json', async () => {
    // --ignore-scripts: lists the dist/ there is without rebuilding it (pack-install.test.ts packs a clean build).
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const [report] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const paths = (report?.files ?? []).map((file) => file.path);
    const unexpected = paths.filter((path) => !(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(path) || isPackedDoc(path) || /^dist\/.+\.js$/.test(path)));
    expect(unexpected).toEqual([]);
    for (const path of ['README.md', 'LICENSE', 'CHANGELOG.md', ...filesUnder(join(ROOT, 'docs')).map((file) => `docs/${file}`)]) expect(paths).toContain(path);
    expect(MANIFEST.files.some((glob) => /^(src|tests|bench|examples|scripts)\b/.test(glob))).toBe(false);
  });

  it('packs from docs/ only the documents and the dashboard, not whatever else is dropped there', async () => {
    // The manifest's "files" applied to a folder of its own holding decoys beside the documents.
    const scratch = mkdtempSync(join(tmpdir(), 'understudy-pack-files-'));
    try {
      const decoys = ['docs/.env', 'docs/credentials.json', 'docs/notes.txt', 'docs/grafana/token.txt', 'docs/drafts/backup.db'];
      for (const file of ['dist/cli/main.js', 'docs/deployment.md', 'docs/grafana/understudy-dashboard.json', ...decoys]) {
        mkdirSync(dirname(join(scratch, file)), { recursive: true });
        writeFileSync(join(scratch, file), 'x\n');
      }
      writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: MANIFEST.name, version: MANIFEST.version, files: MANIFEST.files, bin: MANIFEST.bin }));
      const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: scratch });
      const paths = ((JSON.parse(stdout) as { files: { path: string }[] }[])[0]?.files ?? []).map((file) => file.path).sort();
      expect(paths).toEqual(['dist/cli/main.js', 'docs/deployment.md', 'docs/grafana/understudy-dashboard.json', 'package.json']);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('runs as a non-root user that owns /data, the volume, with the port it exposes and UNDERSTUDY_* names the configuration knows', () => {
    const user = lastInstruction(runtimeStage, 'USER')?.rest ?? '';
    const [uid] = user.split(':');
    expect(uid).toBe('10001');
    expect(instructions(runtimeStage, 'RUN').some((instruction) => /\bchown 10001:10001 \/data\b/.test(instruction.rest))).toBe(true);
    expect(execForm(lastInstruction(runtimeStage, 'VOLUME')?.rest ?? '')).toEqual(['/data']);
    expect(runtimeEnvironment.UNDERSTUDY_DATA_DIR).toBe('/data');
    expect(runtimeEnvironment.UNDERSTUDY_HOST).toBe('0.0.0.0');
    expect(lastInstruction(runtimeStage, 'EXPOSE')?.rest).toBe(runtimeEnvironment.UNDERSTUDY_PORT);
    for (const name of understudyVariables(DOCKERFILE_TEXT)) expect(CONFIG_ENV_NAMES.has(name) || OTHER_UNDERSTUDY_VARIABLES.has(name), name).toBe(true);
    // The image's environment alone is a valid configuration.
    const config = loadConfig({ env: Object.fromEntries(Object.entries(runtimeEnvironment).filter(([name]) => name.startsWith('UNDERSTUDY_'))) });
    expect(config).toMatchObject({ host: '0.0.0.0', port: Number(runtimeEnvironment.UNDERSTUDY_PORT), dataDir: '/data' });
  });
});

/** A compose health check's command as its argument vector (exec form, `CMD` dropped). */
function healthCheckCommand(test: string[]): string[] {
  expect(test[0]).toBe('CMD');
  return test.slice(1);
}

/** Runs a health check's command (asynchronously: the server answering it runs in this process) and resolves its exit code. */
async function runCommand(command: string[], env: Record<string, string>): Promise<number> {
  const [file = '', ...args] = command;
  return run(file, args, { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 }).then(
    () => 0,
    (error: { code?: unknown }) => (typeof error.code === 'number' ? error.code : -1),
  );
}

describe('the health checks, run against a real server', () => {
  let server: TestServer;
  let port: string;

  beforeAll(async () => {
    server = await startTestServer();
    port = new URL(server.baseUrl).port;
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("the Dockerfile's HEALTHCHECK asks /readyz on UNDERSTUDY_PORT: 0 when ready, 1 when nothing answers", async () => {
    const healthcheck = lastInstruction(runtimeStage, 'HEALTHCHECK')?.rest ?? '';
    expect(healthcheck).toMatch(/^CMD \[/);
    const command = execForm(healthcheck.replace(/^CMD\s+/, '')) ?? [];
    expect(command.join(' ')).toContain('/readyz');
    expect(await runCommand(command, { UNDERSTUDY_PORT: port })).toBe(0);
    const closed = await closedPort();
    expect(await runCommand(command, { UNDERSTUDY_PORT: String(closed) })).toBe(1);
  });

  it("compose's health check asks /readyz on the container port", async () => {
    const compose = parseYaml(COMPOSE_TEXT, { merge: true }) as ComposeFile;
    const test = compose.services['understudy-1']?.healthcheck?.test ?? [];
    const command = healthCheckCommand(test);
    expect(command.join(' ')).toContain('127.0.0.1:8080/readyz');
    expect(await runCommand(command.map((part) => part.replace('127.0.0.1:8080/', `127.0.0.1:${port}/`)), {})).toBe(0);
    const closed = await closedPort();
    expect(await runCommand(command.map((part) => part.replace('127.0.0.1:8080/', `127.0.0.1:${closed}/`)), {})).toBe(1);
  });
});

/** A port nothing listens on: one the kernel just handed out and took back. */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((listening) => probe.listen(0, '127.0.0.1', listening));
  const address = probe.address();
  await new Promise((closed) => probe.close(closed));
  return typeof address === 'object' && address !== null ? address.port : 1;
}

interface ComposeService {
  image?: string;
  build?: string | { context?: string };
  init?: boolean;
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] };
  ports?: string[];
  volumes?: string[];
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

function environmentOfService(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) return Object.fromEntries(environment.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, String(value ?? '')]));
}

/** Compose's interpolation of `${NAME}`, `${NAME:?message}` and `${NAME:-default}`; a required name that is unset throws, as compose refuses. */
function interpolate(text: string, variables: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_whole, name: string, operator: string | undefined, argument: string | undefined) => {
    const value = variables[name];
    if (value !== undefined && value !== '') return value;
    if (operator === '?') throw new Error(`${name}: ${argument}`);
    return operator === '-' ? (argument ?? '') : '';
  });
}

describe('compose.yaml', () => {
  const compose = parseYaml(COMPOSE_TEXT, { merge: true }) as ComposeFile;
  const understudyServices = Object.keys(compose.services).filter((name) => name.startsWith('understudy'));

  it('runs PostgreSQL 16 with a health check and a named volume, and two Understudy services built from the Dockerfile', () => {
    const postgres = compose.services.postgres;
    expect(postgres?.image).toMatch(/^postgres:16(\b|$)/);
    expect(postgres?.healthcheck?.test?.join(' ')).toContain('pg_isready');
    const volume = postgres?.volumes?.find((entry) => entry.endsWith(':/var/lib/postgresql/data'))?.split(':')[0] ?? '';
    expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    expect(understudyServices).toEqual(['understudy-1', 'understudy-2']);
    for (const name of understudyServices) {
      const service = compose.services[name] as ComposeService;
      const context = typeof service.build === 'string' ? service.build : service.build?.context;
      expect(context, name).toBe('.');
      expect(service.init, `${name}: init, so signals reach Understudy`).toBe(true);
    }
  });

  it('gives both the same database, master key and project credentials, each required in the environment rather than written in the file', () => {
    const [first, second] = understudyServices.map((name) => environmentOfService(compose.services[name] as ComposeService));
    for (const name of ['UNDERSTUDY_DATABASE_URL', 'UNDERSTUDY_MASTER_KEY', 'UNDERSTUDY_PROJECT_ID', 'UNDERSTUDY_PROJECT_SECRET']) {
      expect(first?.[name], name).toBeDefined();
      expect(second?.[name], name).toBe(first?.[name]);
    }
    for (const name of ['UNDERSTUDY_MASTER_KEY', 'UNDERSTUDY_PROJECT_ID', 'UNDERSTUDY_PROJECT_SECRET']) expect(first?.[name], name).toMatch(/^\$\{\w+:\?[^}]+\}$/);
    // The URL names the postgres service, its user and database, and the password it was given.
    const sample = { POSTGRES_PASSWORD: 'sample-password', UNDERSTUDY_MASTER_KEY: 'k', UNDERSTUDY_PROJECT_ID: 'i', UNDERSTUDY_PROJECT_SECRET: 's' };
    const postgres = environmentOfService(compose.services.postgres as ComposeService);
    const url = interpolate(first?.UNDERSTUDY_DATABASE_URL ?? '', sample);
    expect(url).toBe(`postgres://${postgres.POSTGRES_USER}:${interpolate(postgres.POSTGRES_PASSWORD ?? '', sample)}@postgres:5432/${postgres.POSTGRES_DB}`);
    expect(url).toContain(':sample-password@');
  });

  it('starts each only once PostgreSQL is healthy, checks each on /readyz, and publishes them on 8081 and 8082 of the loopback interface only', () => {
    const ports = understudyServices.map((name) => {
      const service = compose.services[name] as ComposeService;
      expect(Array.isArray(service.depends_on) ? undefined : service.depends_on?.postgres?.condition, name).toBe('service_healthy');
      expect(service.healthcheck?.test?.join(' '), name).toContain('/readyz');
      return service.ports;
    });
    // Plain HTTP: reachable from the host (and a TLS proxy on it), not from the network.
    expect(ports).toEqual([['127.0.0.1:8081:8080'], ['127.0.0.1:8082:8080']]);
    expect(lastInstruction(runtimeStage, 'EXPOSE')?.rest).toBe('8080');
  });

  it('names only UNDERSTUDY_* variables the configuration accepts', () => {
    const names = understudyVariables(COMPOSE_TEXT);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(CONFIG_ENV_NAMES.has(name) || OTHER_UNDERSTUDY_VARIABLES.has(name), name).toBe(true);
  });

  it('with the .env its header says how to make, gives each service a configuration Understudy accepts', () => {
    // The recipe between `cat > .env <<EOF` and `EOF` in the header comment, run as written.
    const header = COMPOSE_TEXT.split('\n').filter((line) => line.startsWith('#')).map((line) => line.replace(/^# ?/, ''));
    const start = header.findIndex((line) => line.trim().startsWith('cat > .env <<EOF'));
    const end = header.findIndex((line, index) => index > start && line.trim() === 'EOF');
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const script = header.slice(start, end + 1).map((line) => line.trim()).join('\n').replace('cat > .env <<EOF', 'cat <<EOF');
    const dotenv = execFileSync('bash', ['-c', script], { encoding: 'utf8' });
    const variables = Object.fromEntries(
      dotenv
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(Object.keys(variables).sort()).toEqual(['POSTGRES_PASSWORD', 'UNDERSTUDY_MASTER_KEY', 'UNDERSTUDY_PROJECT_ID', 'UNDERSTUDY_PROJECT_SECRET']);
    // Put into the database URL as it is: only characters a URL needs no escaping for.
    expect(variables.POSTGRES_PASSWORD).toMatch(/^[A-Za-z0-9._~-]+$/);
    for (const name of understudyServices) {
      const service = environmentOfService(compose.services[name] as ComposeService);
      const env = { ...runtimeEnvironment, ...Object.fromEntries(Object.entries(service).map(([key, value]) => [key, interpolate(value, variables)])) };
      const config = loadConfig({ env: Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith('UNDERSTUDY_'))) });
      expect(config.databaseUrl, name).toBe(`postgres://understudy:${variables.POSTGRES_PASSWORD}@postgres:5432/understudy`);
      expect(new URL(config.databaseUrl ?? '').password, name).toBe(variables.POSTGRES_PASSWORD);
      expect(config.projectId, name).toBe(variables.UNDERSTUDY_PROJECT_ID);
      expect(config.port, name).toBe(8080);
    }
    // Without the file, compose refuses to start, naming what is missing.
    expect(() => interpolate(environmentOfService(compose.services['understudy-1'] as ComposeService).UNDERSTUDY_MASTER_KEY ?? '', {})).toThrow(/UNDERSTUDY_MASTER_KEY/);
  });
});

describe('docs/deployment.md', () => {
  const text = readFileSync(join(ROOT, 'docs/deployment.md'), 'utf8');

  it('names only UNDERSTUDY_* variables the configuration accepts', () => {
    for (const name of understudyVariables(text)) expect(CONFIG_ENV_NAMES.has(name) || OTHER_UNDERSTUDY_VARIABLES.has(name), name).toBe(true);
  });

  it('gives a health check for a server that serves HTTPS itself which works against one: 0 when ready, 1 when nothing answers', async () => {
    // The YAML block of the "Health checks" section, with the placeholders made real.
    const block = /```yaml\n( *healthcheck:\n[^`]*)```/.exec(text.slice(text.indexOf('## Health checks')))?.[1] ?? '';
    const test = (parseYaml(block) as { healthcheck?: { test?: string[] } }).healthcheck?.test ?? [];
    const command = healthCheckCommand(test);
    expect(command.join(' ')).toContain('/readyz');
    const certificate = makeSelfSignedCertificate();
    const server = await startTestServer({ https: { cert: certificate.cert, key: certificate.key }, dispatcher: trustingDispatcher(certificate.pem) });
    try {
      const port = new URL(server.baseUrl).port;
      const made = (to: string): string[] => command.map((part) => part.replace('port:8080', `port:${to}`).replace("'auth.example.com'", "'localhost'").replace("'/certs/ca.pem'", JSON.stringify(certificate.cert).replace(/"/g, "'")));
      expect(await runCommand(made(port), {})).toBe(0);
      expect(await runCommand(made(String(await closedPort())), {})).toBe(1);
      // The certificate is checked: under a name it was not issued for, the check fails.
      expect(await runCommand(made(port).map((part) => part.replace("servername:'localhost'", "servername:'elsewhere.example'")), {})).toBe(1);
    } finally {
      await server.stop();
      certificate.cleanup();
    }
  });

  it("gives the same .env recipe as compose.yaml's header", () => {
    const recipe = (lines: string[]): string[] => {
      const start = lines.findIndex((line) => line.startsWith('cat > .env <<EOF'));
      const end = lines.findIndex((line, index) => index > start && line === 'EOF');
      return start < 0 || end < 0 ? [] : lines.slice(start, end + 1);
    };
    const fromCompose = recipe(COMPOSE_TEXT.split('\n').map((line) => line.replace(/^#\s*/, '').trim()));
    expect(fromCompose.length).toBeGreaterThan(2);
    expect(recipe(text.split('\n').map((line) => line.trim()))).toEqual(fromCompose);
  });
});

/** `docker info` answers only when a daemon runs; the CLI alone is not enough. */
function dockerDaemon(): { available: boolean; reason: string } {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
  if (info.error !== undefined) return { available: false, reason: `no docker command (${info.error.message})` };
  if (info.status !== 0) return { available: false, reason: `docker info failed: ${(info.stderr || info.stdout).trim().split('\n').at(-1) ?? ''}` };
  return { available: true, reason: `Docker ${info.stdout.trim()}` };
}

const daemon = dockerDaemon();
if (!daemon.available) {
  console.info(`[container-files] skipped building and running the image (${daemon.reason}); the other checks ran on the files alone.`);
}

describe.skipIf(!daemon.available)(`the image, built and run (${daemon.reason})`, () => {
  const tag = `understudy-server:test-${randomBytes(4).toString('hex')}`;
  const container = `understudy-test-${randomBytes(4).toString('hex')}`;

  afterAll(() => {
    spawnSync('docker', ['rm', '--force', '--volumes', container]);
    spawnSync('docker', ['image', 'rm', '--force', tag]);
  });

  it('builds, serves as uid 10001 with credentials on its first start, turns healthy, holds only the package, and stops cleanly', async () => {
    execFileSync('docker', ['build', '--tag', tag, ROOT], { stdio: 'inherit', timeout: 900_000 });
    execFileSync('docker', ['run', '--detach', '--init', '--name', container, '--publish', '127.0.0.1::8080', tag]);
    const published = execFileSync('docker', ['port', container, '8080/tcp'], { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    const url = `http://${published}`;
    let ready = false;
    for (let attempt = 0; attempt < 120 && !ready; attempt += 1) {
      ready = await fetch(`${url}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      if (!ready) await new Promise((wake) => setTimeout(wake, 500));
    }
    expect(ready).toBe(true);
    const logs = execFileSync('docker', ['logs', container], { encoding: 'utf8' });
    expect(logs).toMatch(/^ {2}project_id: project-test-/m);
    expect(execFileSync('docker', ['exec', container, 'id', '-u'], { encoding: 'utf8' }).trim()).toBe('10001');
    expect(execFileSync('docker', ['exec', container, 'understudy', 'version'], { encoding: 'utf8' }).trim()).toBe(MANIFEST.version);
    const installed = execFileSync('docker', ['exec', container, 'ls', '/opt/understudy'], { encoding: 'utf8' }).trim().split('\n').sort();
    // The packed files, the lockfile the dependencies were installed from, and those dependencies.
    expect(installed).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'dist', 'docs', 'node_modules', 'package-lock.json', 'package.json']);
    expect(execFileSync('docker', ['exec', container, 'readlink', '-f', '/usr/local/bin/understudy'], { encoding: 'utf8' }).trim()).toBe(`/opt/understudy/${MANIFEST.bin.understudy}`);
    for (let attempt = 0; attempt < 60; attempt += 1) {
      const health = execFileSync('docker', ['inspect', '--format', '{{.State.Health.Status}}', container], { encoding: 'utf8' }).trim();
      if (health === 'healthy') break;
      await new Promise((wake) => setTimeout(wake, 1000));
    }
    expect(execFileSync('docker', ['inspect', '--format', '{{.State.Health.Status}}', container], { encoding: 'utf8' }).trim()).toBe('healthy');
    execFileSync('docker', ['stop', '--time', '20', container]);
    expect(execFileSync('docker', ['inspect', '--format', '{{.State.ExitCode}}', container], { encoding: 'utf8' }).trim()).toBe('0');
  }, 1_200_000);
});
