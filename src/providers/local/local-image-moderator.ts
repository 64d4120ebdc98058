import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { load as loadBundledModel, NSFWJS } from 'nsfwjs';
import pLimit from 'p-limit';
import type { RgbaImage } from '../../media/image-decode.js';
import type { ImageInput, ImageModeration, ImageModerator } from '../image-moderator.js';
import { observeCall, type ProviderObserver } from '../provider-observer.js';
import { decideFromScores, type CategoryScores, type ThresholdTable } from '../thresholds.js';
import type { LocalImageModel } from './local-image-model.js';
import { messageOf } from '../../errors.js';

/**
 * The offline image classifier: NSFWJS (MobileNetV2 / InceptionV3 trained on five classes) on the
 * TensorFlow.js WebAssembly backend. The weights ship inside the nsfwjs npm package and the
 * WebAssembly binaries inside @tensorflow/tfjs-backend-wasm, so nothing is downloaded at install
 * or run time. The only module that imports nsfwjs or TensorFlow.js.
 *
 * It takes decoded pixels, not files, so video frames can use it as they are decoded.
 */


export type LocalImageOptions = {
  model: LocalImageModel;
  /** A folder with a TensorFlow.js model.json and its weight files, used instead of a bundled model. */
  modelPath?: string | undefined;
  thresholds: ThresholdTable;
  /** Inferences at once. The WebAssembly backend computes on the calling thread, so more only queues. */
  concurrency: number;
  observer?: ProviderObserver | undefined;
};

export type NsfwClass = 'Drawing' | 'Hentai' | 'Neutral' | 'Porn' | 'Sexy';
export type NsfwPrediction = { className: NsfwClass; probability: number };

const PROVIDER = 'nsfwjs';

/**
 * The model's five classes in our categories. `Drawing` and `Neutral` are the safe classes; an
 * explicit drawing (`Hentai`) counts as sexual like a photo (`Porn`); `Sexy` (swimwear, lingerie)
 * is the suggestive category, which only ever asks for review by default.
 */
export function scoresFromPredictions(predictions: NsfwPrediction[]): CategoryScores {
  const probability = (name: NsfwClass) => predictions.find((prediction) => prediction.className === name)?.probability ?? 0;
  return {
    sexual: Math.max(probability('Porn'), probability('Hentai')),
    suggestive: probability('Sexy'),
  };
}

export class LocalImageModerator implements ImageModerator {
  readonly name = PROVIDER;
  readonly source = 'local' as const;
  private readonly limit;
  private warmedUp = false;
  private closed = false;

  private constructor(
    private readonly classifier: NSFWJS,
    readonly pixelSize: number,
    private readonly options: LocalImageOptions,
  ) {
    this.limit = pLimit(options.concurrency);
  }

  /** Loads and warms up the model; throws an Error that says which model failed and why. */
  static async load(options: LocalImageOptions): Promise<LocalImageModerator> {
    const label = options.modelPath ?? options.model;
    try {
      await tf.setBackend('wasm');
      await tf.ready();
      const size = options.model === 'InceptionV3' ? 299 : 224;
      const classifier = options.modelPath ? await loadFromFolder(options.modelPath, size) : await quietly(() => loadBundledModel(options.model));
      const moderator = new LocalImageModerator(classifier, size, options);
      // The first inference compiles kernels and allocates buffers: pay that before the first request.
      await moderator.classify({ width: size, height: size, data: new Uint8Array(size * size * 4) });
      moderator.warmedUp = true;
      return moderator;
    } catch (error) {
      throw new Error(`Could not load the local image model (${label}): ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  async moderate(input: ImageInput): Promise<ImageModeration> {
    if (!input.pixels) throw new Error('the local image moderator needs decoded pixels');
    const pixels = input.pixels;
    const predictions = await this.limit(() => observeCall(this.options.observer, PROVIDER, () => this.classify(pixels)));
    const scores = scoresFromPredictions(predictions);
    const { decision, reason, details } = decideFromScores(scores, this.options.thresholds);
    return { decision, reason, details, scores, provider: PROVIDER, rawResponse: { model: this.options.modelPath ?? this.options.model, predictions }, cacheable: true };
  }

  modelLoaded(): boolean {
    return this.warmedUp && !this.closed;
  }

  /** Frees the model's memory; the moderator cannot classify afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    this.classifier.dispose();
  }

  private async classify(pixels: RgbaImage): Promise<NsfwPrediction[]> {
    // RGBA in, RGB tensor out; nsfwjs resizes to the model's size if needed and disposes its temporaries.
    const rgb = tf.tidy(() =>
      tf
        .tensor3d(pixels.data, [pixels.height, pixels.width, 4], 'int32')
        .slice([0, 0, 0], [pixels.height, pixels.width, 3]),
    );
    try {
      return (await this.classifier.classify(rgb as tf.Tensor3D, 5)) as NsfwPrediction[];
    } finally {
      rgb.dispose();
    }
  }
}

/** nsfwjs announces which model it uses on every load; the service says so itself at start-up. */
async function quietly<T>(load: () => Promise<T>): Promise<T> {
  const info = console.info;
  console.info = () => undefined;
  try {
    return await load();
  } finally {
    console.info = info;
  }
}

/** Loads a TensorFlow.js model (graph or layers format) from a local folder. */
async function loadFromFolder(folder: string, size: number): Promise<NSFWJS> {
  const modelJson = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const manifest = modelJson.weightsManifest ?? [];
  const buffers = await Promise.all(manifest.flatMap((group) => group.paths.map((path) => readFile(join(folder, path)))));
  const weightData = new Uint8Array(Buffer.concat(buffers)).buffer;
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: modelJson.modelTopology,
      weightSpecs: manifest.flatMap((group) => group.weights),
      weightData,
      format: modelJson.format,
    }),
  };
  const classifier = new NSFWJS(handler, { size, type: modelJson.format === 'graph-model' ? 'graph' : 'layers' });
  await classifier.load();
  return classifier;
}
