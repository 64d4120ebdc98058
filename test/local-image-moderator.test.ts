import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeForClassifier } from '../src/media/image-decode.js';
import { LocalImageModerator, scoresFromPredictions, type NsfwPrediction } from '../src/providers/local/local-image-moderator.js';
import { decideFromScores, defaultThresholds, moderationCategories } from '../src/providers/thresholds.js';
import { flatImage, patternImage } from './helpers/images.js';

/** The offline image classifier: real inference through TensorFlow.js on WebAssembly. */

const thresholds = defaultThresholds({ review: 0.5, flag: 0.85 });

describe('local image classifier', () => {
  let moderator: LocalImageModerator;

  beforeAll(async () => {
    moderator = await LocalImageModerator.load({ model: 'MobileNetV2Mid', thresholds, concurrency: 1 });
  });

  const judge = async (bytes: Buffer) =>
    moderator.moderate({ bytes, mime: 'image/jpeg', pixels: await decodeForClassifier(bytes, { size: moderator.pixelSize, maxPixels: 50_000_000 }) });

  it('classifies generated pictures with scores in range, the same way every time', async () => {
    for (const picture of [await patternImage(31), await patternImage(32, { format: 'png' }), await flatImage({ r: 230, g: 200, b: 180 })]) {
      const first = await judge(picture);
      const second = await judge(picture);
      expect(first.provider).toBe('nsfwjs');
      expect(first.scores).toEqual(second.scores);
      for (const score of Object.values(first.scores)) {
        expect(score).toBeGreaterThanOrEqual(0);
        expect(score).toBeLessThanOrEqual(1);
      }
      const predictions = (first.rawResponse as { predictions: NsfwPrediction[] }).predictions;
      expect(predictions.map((p) => p.className).sort()).toEqual(['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);
      expect(predictions.reduce((sum, p) => sum + p.probability, 0)).toBeCloseTo(1, 3);
    }
  });

  it('judges a burst of concurrent pictures, each one answered', async () => {
    const pictures = await Promise.all([41, 42, 43, 44, 45, 46].map((seed) => patternImage(seed, { width: 320, height: 240 })));
    const results = await Promise.all(pictures.map(judge));
    expect(results.map((result) => result.decision).every((decision) => ['pass', 'review', 'flagged'].includes(decision))).toBe(true);
  });

  it('asks for decoded pixels, at the model size', async () => {
    expect(moderator.pixelSize).toBe(224);
    await expect(moderator.moderate({ bytes: await patternImage(33), mime: 'image/jpeg' })).rejects.toThrow(/pixels/);
  });
});

describe('local classifier class mapping', () => {
  const decide = (predictions: NsfwPrediction[]) => decideFromScores(scoresFromPredictions(predictions), thresholds);
  const predictions = (values: Partial<Record<NsfwPrediction['className'], number>>): NsfwPrediction[] =>
    (['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const).map((className) => ({ className, probability: values[className] ?? 0 }));

  it('maps Porn and Hentai to sexual, Sexy to suggestive, and the safe classes to nothing', () => {
    expect(decide(predictions({ Neutral: 0.97, Drawing: 0.03 }))).toMatchObject({ decision: 'pass', details: {} });
    expect(decide(predictions({ Porn: 0.93 }))).toMatchObject({ decision: 'flagged', details: { sexual: { level: 'flagged' } } });
    expect(decide(predictions({ Hentai: 0.6, Drawing: 0.4 }))).toMatchObject({ decision: 'review', details: { sexual: { level: 'review' } } });
    expect(decide(predictions({ Sexy: 0.9 }))).toMatchObject({ decision: 'review', details: { suggestive: { level: 'review' } } });
    expect(decide(predictions({ Sexy: 0.7, Neutral: 0.3 }))).toMatchObject({ decision: 'pass' });
  });

  it('only produces categories of the shared threshold table', () => {
    for (const category of Object.keys(scoresFromPredictions(predictions({ Porn: 1 })))) {
      expect(moderationCategories).toContain(category);
    }
  });
});

describe('local classifier loading', () => {
  let folder: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'model-'));
  });

  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('fails with a message naming the model when the folder has no model', async () => {
    await expect(LocalImageModerator.load({ model: 'MobileNetV2Mid', modelPath: folder, thresholds, concurrency: 1 })).rejects.toThrow(
      `Could not load the local image model (${folder})`,
    );
  });

  it('fails with a message when the model file is not a model', async () => {
    writeFileSync(join(folder, 'model.json'), '{"format": "graph-model", "modelTopology": {}, "weightsManifest": [{"paths": ["missing.bin"], "weights": []}]}');
    await expect(LocalImageModerator.load({ model: 'MobileNetV2Mid', modelPath: folder, thresholds, concurrency: 1 })).rejects.toThrow(/Could not load the local image model/);
  });
});
