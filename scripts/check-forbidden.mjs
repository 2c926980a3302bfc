#!/usr/bin/env node
// Bans what Biome cannot express (style rule 17 and the layering in style section 3):
// global clock and randomness outside src/platform/, imports against the dependency direction, and
// infrastructure packages in src/domain. Parses with the TypeScript compiler, so comments and strings
// never trigger a finding. `node scripts/check-forbidden.mjs [dir]` checks `dir` (default src/) as if it were src/.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIR = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'src');

const CLOCK = 'inject a Clock and call clock.now() (src/platform/clock.ts)';
const RANDOM = 'inject a Random and call random.uuid() or random.bytes(n) (src/platform/random.ts)';

/**
 * Layer (first folder under src/) -> layers it must not import from; '' is the files at the top of
 * src/ (services.ts, app.ts, main.ts), which wire the layers together.
 */
const FORBIDDEN_IMPORTS = {
  domain: ['storage', 'http', 'api', 'console', 'cli', 'config', ''],
  crypto: ['domain', 'http', 'storage'],
  platform: ['domain', 'http', 'storage'],
  // Operation modules decode, call a service and encode: the services reach the database, never the edge.
  api: ['storage'],
};

const STORAGE = 'declare a port in src/domain and implement it in src/storage';
const EDGE = 'the HTTP edge (src/http, src/api, src/console) decodes and encodes; src/domain takes plain values';
const CRYPTO = 'use (or add) a function in src/crypto';

/**
 * Packages (and Node built-ins, with or without `node:`) that src/domain must not import, with where
 * that work belongs: it is infrastructure, and the domain stays testable without it. A name covers
 * its subpaths (`kysely/helpers/postgres`); `@scope/*` covers a whole scope.
 */
const DOMAIN_FORBIDDEN_PACKAGES = {
  fastify: EDGE,
  '@fastify/*': EDGE,
  ajv: EDGE,
  'secure-json-parse': EDGE,
  pino: 'log at the edge (src/http, src/cli); the domain records what matters as audit events',
  kysely: STORAGE,
  pg: STORAGE,
  'better-sqlite3': STORAGE,
  'node:sqlite': STORAGE,
  'node:crypto': CRYPTO,
  jose: CRYPTO,
  '@node-rs/argon2': CRYPTO,
  otpauth: CRYPTO,
  'node:fs': 'read files where the process starts (src/cli, src/config) and pass the contents in',
  'node:child_process': 'the domain starts no processes',
  'node:worker_threads': 'the domain starts no threads',
  'node:http': EDGE,
  'node:https': EDGE,
  'node:http2': EDGE,
  undici: 'the domain makes no network calls',
};

function listSourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listSourceFiles(path));
    else if (/\.(ts|mts|cts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files;
}

function layerOf(file) {
  const parts = relative(SOURCE_DIR, file).split(sep);
  return parts.length > 1 ? parts[0] : '';
}

/** Names the banned clock/randomness call at `node`, with its replacement, or undefined. */
function bannedCall(node) {
  if (ts.isNewExpression(node) && node.expression.getText() === 'Date' && (node.arguments?.length ?? 0) === 0) {
    return `new Date() without arguments: ${CLOCK}`;
  }
  if (!ts.isCallExpression(node)) return undefined;
  const callee = node.expression;
  const text = callee.getText();
  if (text === 'Date.now') return `Date.now(): ${CLOCK}`;
  if (text === 'Math.random') return `Math.random(): ${RANDOM}`;
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
  if (name === 'randomBytes' || name === 'randomUUID') return `${name}(): ${RANDOM}`;
  return undefined;
}

function moduleSpecifierOf(node) {
  if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
    return node.moduleSpecifier.text;
  }
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
    return node.arguments[0].text;
  }
  if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
    return node.moduleReference.expression.text;
  }
  return undefined;
}

/** The keys of DOMAIN_FORBIDDEN_PACKAGES a specifier may fall under: `node:fs` for `fs/promises`, `@fastify/*` for `@fastify/cookie`. */
function packageKeysOf(specifier) {
  const bare = specifier.replace(/^node:/, '');
  const [first = '', second] = bare.split('/');
  const name = first.startsWith('@') && second !== undefined ? `${first}/${second}` : first;
  return first.startsWith('@') ? [name, `${first}/*`] : [name, `node:${name}`];
}

function bannedImport(file, specifier) {
  const layer = layerOf(file);
  if (!specifier.startsWith('.')) {
    if (layer !== 'domain') return undefined;
    const key = packageKeysOf(specifier).find((candidate) => Object.hasOwn(DOMAIN_FORBIDDEN_PACKAGES, candidate));
    return key === undefined ? undefined : `src/domain must not import "${specifier}": ${DOMAIN_FORBIDDEN_PACKAGES[key]}`;
  }
  const forbidden = FORBIDDEN_IMPORTS[layer];
  if (!forbidden) return undefined;
  const target = layerOf(resolve(dirname(file), specifier));
  if (!forbidden.includes(target)) return undefined;
  const fix = layer === 'domain' ? 'declare a port in src/domain and implement it outside, or take the value as an argument' : 'it is a leaf: take what it needs as arguments';
  return `src/${layer} must not import from ${target === '' ? 'the top of src/' : `src/${target}`} ("${specifier}"): ${fix}`;
}

function check(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const inPlatform = layerOf(file) === 'platform';
  const findings = [];
  const report = (node, message) => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    findings.push(`${relative(process.cwd(), file)}:${line + 1}: ${message}`);
  };
  const visit = (node) => {
    const call = inPlatform ? undefined : bannedCall(node);
    if (call) report(node, call);
    const specifier = moduleSpecifierOf(node);
    const layering = specifier === undefined ? undefined : bannedImport(file, specifier);
    if (layering) report(node, layering);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return findings;
}

const findings = listSourceFiles(SOURCE_DIR).flatMap(check);
if (findings.length > 0) {
  process.stderr.write(`check-forbidden: ${findings.length} problem(s)\n${findings.map((finding) => `  ${finding}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('check-forbidden: no forbidden calls or imports\n');
