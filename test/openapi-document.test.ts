import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../src/errors.js';
import { statusOf } from '../src/http/error-handler.js';

/**
 * The committed openapi/openapi.json (identical to what the service serves, see the drift test) is
 * checked against the official OpenAPI 3.1 schema, and every operation must show a client a working
 * example of its request body and of each response.
 */

type Json = Record<string, any>;
type Operation = { method: string; path: string; operation: Json };

const document = JSON.parse(readFileSync(new URL('../openapi/openapi.json', import.meta.url), 'utf8')) as Json;
const documentId = 'https://moderation-api.invalid/openapi.json';
const httpMethods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operationsOf(spec: Json): Operation[] {
  return Object.entries(spec.paths as Json).flatMap(([path, item]) =>
    httpMethods.filter((method) => item[method]).map((method) => ({ method, path, operation: item[method] as Json })),
  );
}

function resolve(spec: Json, node: Json): Json {
  if (typeof node.$ref !== 'string') return node;
  const target = (node.$ref as string)
    .replace(/^#\//, '')
    .split('/')
    .reduce((value: any, part) => value?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  if (!target) throw new Error(`unresolvable ${node.$ref}`);
  return resolve(spec, target);
}

/** The examples a reader (or Swagger UI) sees for one media type: its own, else its schema's. */
function examplesOf(spec: Json, media: Json): unknown[] {
  const own = [
    ...('example' in media ? [media.example] : []),
    ...Object.values((media.examples ?? {}) as Json).map((example) => resolve(spec, example).value),
  ];
  if (own.length > 0 || !media.schema) return own;
  const schema = resolve(spec, media.schema);
  return [...('example' in schema ? [schema.example] : []), ...((schema.examples as unknown[] | undefined) ?? [])];
}

const pointer = (...parts: string[]) => parts.map((part) => `/${part.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

type Finding = { where: string; problem: string };

/** Every missing example, and every example its own schema rejects. */
function exampleFindings(spec: Json): Finding[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(spec, documentId);
  const findings: Finding[] = [];

  const check = (where: string, mediaPointer: string, media: Json) => {
    const examples = examplesOf(spec, media);
    if (examples.length === 0) findings.push({ where, problem: 'no example' });
    const validate = ajv.getSchema(`${documentId}#${encodeURI(`${mediaPointer}/schema`)}`);
    if (!validate) throw new Error(`no schema at ${where}`);
    for (const example of examples) {
      if (!validate(example)) findings.push({ where, problem: `example does not match the schema: ${ajv.errorsText(validate.errors)}` });
    }
  };

  for (const { method, path, operation } of operationsOf(spec)) {
    const at = pointer('paths', path, method);
    if (operation.requestBody) {
      const content = (resolve(spec, operation.requestBody).content ?? {}) as Json;
      if (Object.keys(content).length === 0) findings.push({ where: `${method} ${path} request`, problem: 'no content' });
      for (const [type, media] of Object.entries(content)) check(`${method} ${path} request ${type}`, `${at}${pointer('requestBody', 'content', type)}`, media);
    }
    for (const [status, response] of Object.entries(operation.responses as Json)) {
      const content = (resolve(spec, response).content ?? {}) as Json;
      if (Object.keys(content).length === 0) findings.push({ where: `${method} ${path} ${status}`, problem: 'no content' });
      for (const [type, media] of Object.entries(content)) check(`${method} ${path} ${status} ${type}`, `${at}${pointer('responses', status, 'content', type)}`, media);
    }
  }
  return findings;
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('names every operation once, as generators expect', () => {
    const ids = operationsOf(document).map(({ operation }) => operation.operationId as string | undefined);
    expect(ids).not.toContain(undefined);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('shows an example request body and an example of each response on every operation, each matching its schema', () => {
    const operations = operationsOf(document);
    expect(operations.map(({ method, path }) => `${method} ${path}`)).toEqual(
      expect.arrayContaining(['post /analyse/image', 'post /analyse/images/batch', 'post /analyse/video', 'post /analyse/text']),
    );
    for (const { method, operation } of operations) if (method === 'post') expect(operation.requestBody).toBeDefined();
    expect(exampleFindings(document)).toEqual([]);
  });

  it('gives each error response an example whose code the service answers with that status', () => {
    const checked: string[] = [];
    for (const { method, path, operation } of operationsOf(document)) {
      for (const [status, response] of Object.entries(operation.responses as Json)) {
        const media = resolve(document, response).content?.['application/json'];
        if (media?.schema?.$ref !== '#/components/schemas/Error') continue;
        for (const example of examplesOf(document, media) as { code: ErrorCode }[]) {
          expect(statusOf(example.code), `${method} ${path} ${status}: ${example.code}`).toBe(Number(status));
          checked.push(`${path} ${status}`);
        }
      }
    }
    expect(checked.length).toBeGreaterThanOrEqual(4 * 6);
  });

  it('notices a missing example and an example that contradicts its schema', () => {
    const broken = structuredClone(document);
    delete broken.components.schemas.AnalyseTextRequest.example;
    broken.paths['/analyse/text'].post.responses['401'].content['application/json'].example = { code: 'unauthorized' };
    expect(exampleFindings(broken)).toEqual([
      { where: 'post /analyse/text request application/json', problem: 'no example' },
      { where: 'post /analyse/text 401 application/json', problem: expect.stringMatching(/request_id/) },
    ]);
  });
});
