import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

/**
 * `generate` writes clients/typescript/schema.d.ts from the committed openapi/openapi.json with
 * openapi-typescript (a local file: no network); `check` fails when the committed types differ
 * from what the document describes (run by CI through the test suite as well).
 */

export const documentUrl = new URL('../openapi/openapi.json', import.meta.url);
export const schemaPath = fileURLToPath(new URL('../clients/typescript/schema.d.ts', import.meta.url));

const header = `/**
 * Types of the Moderation API, generated from openapi/openapi.json by openapi-typescript.
 * Do not edit: run \`npm run client:generate\` after \`npm run openapi:generate\`.
 */

`;

export async function renderTypescriptClient(): Promise<string> {
  return header + astToString(await openapiTS(documentUrl));
}

async function run(command: string | undefined): Promise<number> {
  if (command === 'generate') {
    writeFileSync(schemaPath, await renderTypescriptClient());
    console.log(`wrote ${schemaPath}`);
    return 0;
  }
  if (command === 'check') {
    let committed = '';
    try {
      committed = readFileSync(schemaPath, 'utf8');
    } catch {
      committed = '';
    }
    if (committed !== (await renderTypescriptClient())) {
      console.error('clients/typescript/schema.d.ts is out of date with openapi/openapi.json: run `npm run client:generate` and commit the result.');
      return 1;
    }
    console.log('clients/typescript/schema.d.ts matches openapi/openapi.json.');
    return 0;
  }
  console.error('usage: tsx scripts/typescript-client.ts generate|check');
  return 2;
}

// Only as a command: the drift test imports renderTypescriptClient from here.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await run(process.argv[2]);
}
