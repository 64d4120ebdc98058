import { sha256Hex } from '../dedupe/content-digest.js';
import { chooseReusableNeighbour, lookupRadius, type NearDuplicateLimits } from '../dedupe/near-duplicate-policy.js';
import { computePerceptualHash, detailLevel } from '../dedupe/perceptual-hash.js';
import type { Downloader } from '../media/download.js';
import { decodeForClassifier, decodeImage } from '../media/image-decode.js';
import { sniffImageFormat } from '../media/media-type.js';
import type { ImageModerator } from '../providers/image-moderator.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Decision, ReviewDetails } from '../providers/thresholds.js';
import type { DecisionSource, JudgedImage, SimilarImage, Store } from '../store/store.js';
import type { AuditRecord } from './audit-record.js';

/**
 * POST /analyse/image as a use case: download, identify (sha256, then perceptual hash), reuse an
 * earlier decision when the policy allows, otherwise ask the image moderator and remember its answer.
 */

export type ImageAnalysisDeps = {
  store: Store;
  downloader: Downloader;
  imageModerator: ImageModerator;
  dedupe: NearDuplicateLimits & { minDetail: number };
  imageMaxPixels: number;
};

export type SimilarItem = { url: string | null; similarity: number; decision: Decision; labels: string[] };

export type ImageAnalysis = {
  isDuplicate: boolean;
  decision: Decision;
  reason: string;
  reviewDetails: ReviewDetails;
  similarItems: SimilarItem[];
  sha256: string;
  phash: string | null;
  source: DecisionSource;
  provider: string;
};

/** How many neighbours the reuse policy sees (the store lists review/flagged ones first). */
const NEIGHBOURS_CONSIDERED = 20;
/** How many of them, closest first, the response shows. */
const SIMILAR_ITEMS_LIMIT = 5;

export async function analyseImage(
  deps: ImageAnalysisDeps,
  request: { url: string },
  audit: AuditRecord,
  signal?: AbortSignal,
): Promise<ImageAnalysis> {
  const { bytes } = await deps.downloader.download(request.url, { signal });
  const sha256 = sha256Hex(bytes);
  audit.sha256 = sha256;

  const moderator = deps.imageModerator;
  // Only the current provider's judgements are reused: after switching from the local model to
  // SightEngine, say, an image passed by the local model (which sees no weapons) is judged again.
  const exact = await deps.store.findImageBySha256(sha256);
  if (exact && exact.provider === moderator.name) {
    audit.phash = exact.phash;
    return reuse(exact, 0, 'cache_exact', audit, [toSimilarItem({ ...exact, distance: 0 })]);
  }

  const { mime, format } = await sniffImageFormat(bytes);
  const decoded = await decodeImage(bytes, { maxPixels: deps.imageMaxPixels });
  const phash = computePerceptualHash(decoded.pixels);
  const lowDetail = detailLevel(decoded.pixels) < deps.dedupe.minDetail;
  audit.phash = phash?.hex ?? null;

  // Images smaller than the 16x16 hash grid have no meaningful hash: exact matches only.
  const neighbours = phash ? await deps.store.findSimilarImages(phash, lookupRadius(deps.dedupe), NEIGHBOURS_CONSIDERED, moderator.name) : [];
  const similarItems = [...neighbours]
    .sort((a, b) => a.distance - b.distance)
    .slice(0, SIMILAR_ITEMS_LIMIT)
    .map(toSimilarItem);
  const reusable = chooseReusableNeighbour(neighbours, { lowDetail, animated: decoded.animated }, deps.dedupe);
  if (reusable) return { ...reuse(reusable, reusable.distance, 'cache_near', audit, similarItems), sha256, phash: phash?.hex ?? null };

  audit.provider = moderator.name;
  const pixels = moderator.pixelSize ? await decodeForClassifier(bytes, { size: moderator.pixelSize, maxPixels: deps.imageMaxPixels }) : undefined;
  try {
    const judged = await moderator.moderate({ bytes, mime, ...(pixels && { pixels }) }, signal);
    audit.rawResponse = judged.rawResponse;
    if (judged.cacheable) {
      await deps.store.saveJudgedImage({
        sha256,
        phash,
        lowDetail,
        animated: decoded.animated,
        width: decoded.width,
        height: decoded.height,
        format,
        decision: judged.decision,
        reason: judged.reason,
        labels: judged.details,
        scores: judged.scores,
        provider: judged.provider,
        sourceUrl: request.url,
      });
    }
    const source: DecisionSource = moderator.source;
    Object.assign(audit, { decision: judged.decision, reason: judged.reason, source, provider: judged.provider });
    return {
      isDuplicate: false,
      decision: judged.decision,
      reason: judged.reason,
      reviewDetails: judged.details,
      similarItems,
      sha256,
      phash: phash?.hex ?? null,
      source,
      provider: judged.provider,
    };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    // An outage must not let content through, and must not fail the caller's upload with a 500:
    // the image is held for review and nothing is cached, so the next request asks again.
    const reason = `The image provider (${error.provider}) could not judge the image (${error.message}); held for human review.`;
    Object.assign(audit, { decision: 'review', reason, source: 'error', error: error.message, rawResponse: error.details.rawResponse ?? null });
    return {
      isDuplicate: false,
      decision: 'review',
      reason,
      reviewDetails: {},
      similarItems,
      sha256,
      phash: phash?.hex ?? null,
      source: 'error',
      provider: error.provider,
    };
  }
}

function toSimilarItem(image: SimilarImage): SimilarItem {
  return { url: image.sourceUrl, similarity: image.distance, decision: image.decision, labels: Object.keys(image.labels) };
}

function reuse(
  image: JudgedImage,
  distance: number,
  source: 'cache_exact' | 'cache_near',
  audit: AuditRecord,
  similarItems: SimilarItem[],
): ImageAnalysis {
  Object.assign(audit, {
    decision: image.decision,
    reason: image.reason,
    source,
    provider: image.provider,
    matchedItemId: image.id,
    matchedDistance: distance,
  });
  return {
    isDuplicate: true,
    decision: image.decision,
    reason: image.reason,
    reviewDetails: image.labels,
    similarItems,
    sha256: image.sha256,
    phash: image.phash,
    source,
    provider: image.provider,
  };
}
