#!/usr/bin/env node
// Writes the operations section of docs/compatibility.md from the operation tables.
//
//   npm run compatibility            rewrites the text between the page's operations markers
//   npm run compatibility -- --check exits 1 when the page differs from the rendering
//
// `npm run contract` runs this after regenerating src/api/generated. The rendering itself is
// src/api/compatibility-matrix.ts (TypeScript, loaded through tsx, a devDependency), so the page
// and tests/unit/compatibility-matrix.test.ts use the same function.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PAGE = join(ROOT, 'docs', 'compatibility.md');

const { renderOperationsMatrix, OPERATIONS_START_MARKER, OPERATIONS_END_MARKER } = await tsImport('../src/api/compatibility-matrix.ts', import.meta.url);

const page = readFileSync(PAGE, 'utf8');
const start = page.indexOf(OPERATIONS_START_MARKER);
const end = page.indexOf(OPERATIONS_END_MARKER);
if (start === -1 || end < start) {
  console.error(`docs/compatibility.md needs the lines ${OPERATIONS_START_MARKER} and ${OPERATIONS_END_MARKER}, in that order, where the operations section goes.`);
  process.exit(1);
}
const updated = `${page.slice(0, start + OPERATIONS_START_MARKER.length)}\n${renderOperationsMatrix()}${page.slice(end)}`;

if (process.argv.includes('--check')) {
  if (updated !== page) {
    console.error('The operations section of docs/compatibility.md is out of date. Run npm run compatibility and commit the result.');
    process.exit(1);
  }
  console.log('The operations section of docs/compatibility.md is up to date.');
} else {
  writeFileSync(PAGE, updated);
  console.log('Wrote the operations section of docs/compatibility.md.');
}
