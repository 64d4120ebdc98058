import pLimit from 'p-limit';
import { analyseImage, type ImageAnalysis, type ImageAnalysisDeps } from './analyse-image.js';
import type { AuditRecord } from './audit-record.js';
import { joinFlight, type Flight } from './single-flight.js';

/**
 * POST /analyse/images/batch as a use case: every item is analysed like a single image, at most
 * `maxConcurrent` at a time, and answered in input order. One failing item never fails the batch.
 * The same URL twice in a batch is fetched and judged once; its later occurrences are duplicates.
 */

export type BatchItem = { url: string; userUuid: string };

export type BatchItemOutcome = {
  item: BatchItem;
  /** What this item's moderation_log row records. */
  audit: AuditRecord;
  finishedAt: number;
} & ({ result: ImageAnalysis; error?: undefined } | { result?: undefined; error: unknown });

export async function analyseImageBatch(
  deps: ImageAnalysisDeps,
  batch: { batchId: string; items: BatchItem[]; maxConcurrent: number },
): Promise<BatchItemOutcome[]> {
  const limit = pLimit(batch.maxConcurrent);
  const flights = new Map<string, Flight<ImageAnalysis>>();

  return Promise.all(
    batch.items.map(async (item) => {
      const audit: AuditRecord = { contentType: 'image', batchId: batch.batchId, userUuid: item.userUuid, contentIdentifier: item.url };
      let flight = flights.get(item.url);
      if (flight) {
        flight = { ...flight, joined: true };
      } else {
        const trail: AuditRecord = {};
        flight = { done: limit(() => analyseImage(deps, { url: item.url }, trail)), trail, joined: false };
        flights.set(item.url, flight);
      }
      try {
        const result = await joinFlight(flight, audit);
        return { item, audit, result, finishedAt: performance.now() };
      } catch (error) {
        return { item, audit, error, finishedAt: performance.now() };
      }
    }),
  );
}
