import { cpus } from 'node:os';
import { decodeForClassifier } from '../src/media/image-decode.js';
import { LocalImageModerator } from '../src/providers/local/local-image-moderator.js';
import { localImageModels, type LocalImageModel } from '../src/providers/local/local-image-model.js';
import { defaultThresholds } from '../src/providers/thresholds.js';
import { patternImage } from '../test/helpers/images.js';

/**
 * Throughput and latency of the offline image classifier, the way a request uses it: decode the
 * downloaded bytes to the model's size (sharp), then classify (TensorFlow.js on WebAssembly).
 *
 *   npx tsx bench/local-image-classifier.ts [model] [images per run]
 *
 * For 1, 2 and 4 concurrent callers, and for the classifier's own concurrency limit at 1 and 2
 * (LOCAL_IMAGE_CONCURRENCY), it prints images per second, latency percentiles and peak RSS.
 */

const model = (process.argv[2] ?? 'MobileNetV2Mid') as LocalImageModel;
if (!localImageModels.includes(model)) throw new Error(`model must be one of ${localImageModels.join(', ')}`);
const imagesPerRun = Number(process.argv[3] ?? 80);

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

// Photo-sized (1024x768) JPEGs, all different.
const pictures = await Promise.all(Array.from({ length: 16 }, (_, i) => patternImage(1000 + i, { width: 1024, height: 768 })));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

console.log(`Machine: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} cores, Node ${process.version}`);
console.log(`Model: ${model}; ${imagesPerRun} images per run; pictures ${pictures.length} x ~${Math.round((pictures[0]?.length ?? 0) / 1024)} KB JPEG 1024x768\n`);
console.log('limit  callers  images/s    p50 ms    p95 ms    p99 ms  peak RSS MB');

for (const limit of [1, 2]) {
  const moderator = await LocalImageModerator.load({ model, thresholds: defaultThresholds({ review: 0.5, flag: 0.85 }), concurrency: limit });
  for (const callers of [1, 2, 4]) {
    peakRss = process.memoryUsage().rss;
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async () => {
        while (next < imagesPerRun) {
          const bytes = pictures[next++ % pictures.length] as Buffer;
          const begin = performance.now();
          const pixels = await decodeForClassifier(bytes, { size: moderator.pixelSize, maxPixels: 50_000_000 });
          await moderator.moderate({ bytes, mime: 'image/jpeg', pixels });
          latencies.push(performance.now() - begin);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);
    const row = [
      String(limit).padStart(5),
      String(callers).padStart(8),
      (latencies.length / seconds).toFixed(1).padStart(9),
      percentile(latencies, 50).toFixed(1).padStart(9),
      percentile(latencies, 95).toFixed(1).padStart(9),
      percentile(latencies, 99).toFixed(1).padStart(9),
      (peakRss / 1e6).toFixed(0).padStart(12),
    ];
    console.log(row.join(' '));
  }
}
clearInterval(sampler);
