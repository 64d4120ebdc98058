import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../src/routes/index.js';

/**
 * `generate` writes openapi/openapi.json from the route schemas; `check` fails when the committed
 * file differs from what the routes describe (run by CI through the test suite as well).
 */

export const committedPath = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));

export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

const command = process.argv[2];
if (command === 'generate') {
  writeFileSync(committedPath, renderOpenApi());
  console.log(`wrote ${committedPath}`);
} else if (command === 'check') {
  let committed = '';
  try {
    committed = readFileSync(committedPath, 'utf8');
  } catch {
    committed = '';
  }
  if (committed !== renderOpenApi()) {
    console.error('openapi/openapi.json is out of date with the routes: run `npm run openapi:generate` and commit the result.');
    process.exit(1);
  }
  console.log('openapi/openapi.json matches the routes.');
} else {
  console.error('usage: tsx scripts/openapi.ts generate|check');
  process.exit(2);
}
