import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { ApiError, GoogleGenAI } from '@google/genai';
import { startFakeGemini, type FakeGemini } from './fakes/fake-gemini.js';

// A self-check of the fake with the real SDK as its client, so the fake cannot drift from the wire format.

const MODEL = 'gemini-2.5-flash';
const config = {
  responseMimeType: 'application/json',
  responseSchema: { type: 'OBJECT', properties: { decision: { type: 'STRING' } } },
  temperature: 0,
};

let fake: FakeGemini;
const client = (apiKey = fake.apiKey) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: fake.baseUrl } });

beforeAll(async () => {
  fake = await startFakeGemini();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.setJudge(() => ({ decision: 'pass', reason: 'fine', categories: [] }));
});

describe('fake Gemini, driven by @google/genai', () => {
  it('round-trips the judge verdict as JSON text, and sees what the SDK sent', async () => {
    fake.setJudge(({ userText, systemText }) =>
      userText.includes('hi') && systemText === 'judge this'
        ? { decision: 'flagged', reason: 'greeting', categories: ['harassment'] }
        : { decision: 'pass', reason: 'fine', categories: [] },
    );
    const response = await client().models.generateContent({
      model: MODEL,
      contents: 'hi',
      config: { ...config, systemInstruction: 'judge this' },
    });
    expect(JSON.parse(response.text ?? '')).toEqual({ decision: 'flagged', reason: 'greeting', categories: ['harassment'] });
    expect(response.candidates?.[0]?.finishReason).toBe('STOP');

    const [request] = fake.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(request?.model).toBe(MODEL);
    expect(request?.body.generationConfig.temperature).toBe(0);
    expect(request?.body.contents).toEqual([{ role: 'user', parts: [{ text: 'hi' }] }]);
  });

  it('receives the key in the x-goog-api-key header, never in the query string', async () => {
    await client().models.generateContent({ model: MODEL, contents: 'hi', config });
    const [request] = fake.requests;
    expect(request?.headers['x-goog-api-key']).toBe(fake.apiKey);
    expect(request?.query).toBe('');
    expect(JSON.stringify(request?.body)).not.toContain(fake.apiKey);
  });

  it('rejects a bad key with 400, which the SDK raises as ApiError carrying the Google error body', async () => {
    const error = await client('wrong-key')
      .models.generateContent({ model: MODEL, contents: 'hi', config })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    // The SDK keeps no structured details: the body is only available as the JSON in `message`.
    const body = JSON.parse((error as ApiError).message);
    expect(body.error.status).toBe('INVALID_ARGUMENT');
    expect(body.error.details[0].reason).toBe('API_KEY_INVALID');
  });

  it('reports a blocked prompt through promptFeedback with no candidates', async () => {
    fake.enqueue({ kind: 'promptBlocked', blockReason: 'PROHIBITED_CONTENT' });
    const response = await client().models.generateContent({ model: MODEL, contents: 'hi', config });
    expect(response.promptFeedback?.blockReason).toBe('PROHIBITED_CONTENT');
    expect(response.candidates).toBeUndefined();
    expect(response.text).toBeUndefined();
  });

  it('plays scripts in order, once each, and rejects a request without a response schema', async () => {
    fake.enqueue({ kind: 'rateLimited', retryDelay: '23s' }, { kind: 'html', status: 502 });
    const ai = client();
    const ask = () => ai.models.generateContent({ model: MODEL, contents: 'hi', config }).catch((caught: unknown) => caught);
    const before = fake.callCount;

    const limited = (await ask()) as ApiError;
    expect(limited.status).toBe(429);
    const details = JSON.parse(limited.message).error.details as Array<Record<string, any>>;
    expect(details.find((detail) => detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay).toBe('23s');
    expect(await ask()).toMatchObject({ status: 502 });
    const normal = await ask();
    expect(JSON.parse((normal as { text: string }).text)).toEqual({ decision: 'pass', reason: 'fine', categories: [] });
    // No retries by default in @google/genai: one request per call, even for 429 and 502.
    expect(fake.callCount - before).toBe(3);

    const noSchema = await ai.models
      .generateContent({ model: MODEL, contents: 'hi', config: { responseMimeType: 'application/json' } })
      .catch((caught: unknown) => caught);
    expect(noSchema).toMatchObject({ status: 400 });
  });
});
