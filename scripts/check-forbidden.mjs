#!/usr/bin/env node
// Bans what Biome cannot express (style rule 17 and the layering in style section 3):
// global clock and randomness outside src/platform/, and imports against the dependency direction.
// Parses with the TypeScript compiler, so comments and strings never trigger a finding.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIR = process.argv[2] ? resolve(process.argv[2]) : join(ROOT, 'src');

const CLOCK = 'inject a Clock and call clock.now() (src/platform/clock.ts)';
const RANDOM = 'inject a Random and call random.uuid() or random.bytes(n) (src/platform/random.ts)';

/** Layer (first folder under src/) -> layers it must not import from. */
const FORBIDDEN_IMPORTS = {
  domain: ['storage', 'http'],
  crypto: ['domain', 'http', 'storage'],
  platform: ['domain', 'http', 'storage'],
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
  return undefined;
}

function bannedImport(file, specifier) {
  const forbidden = FORBIDDEN_IMPORTS[layerOf(file)];
  if (!forbidden || !specifier.startsWith('.')) return undefined;
  const target = layerOf(resolve(dirname(file), specifier));
  if (!forbidden.includes(target)) return undefined;
  const fix = layerOf(file) === 'domain' ? 'declare a port in src/domain and implement it in src/storage or src/http' : 'it is a leaf: take what it needs as arguments';
  return `src/${layerOf(file)} must not import from src/${target} ("${specifier}"): ${fix}`;
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
