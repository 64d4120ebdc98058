import { sha256Hex } from '../dedupe/content-digest.js';
import { chooseReusableNeighbour, lookupRadius, type NearDuplicateLimits } from '../dedupe/near-duplicate-policy.js';
import { computePerceptualHash, detailLevel, nearestWithin, type PerceptualHash } from '../dedupe/perceptual-hash.js';
import type { Downloader } from '../media/download.js';
import { decodeForClassifier, decodeImage } from '../media/image-decode.js';
import { sniffImageFormat } from '../media/media-type.js';
import type { ImageModerator } from '../providers/image-moderator.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Decision, ReviewDetails } from '../providers/thresholds.js';
import type { DecisionSource, JudgedImage, SimilarImage, Store } from '../store/store.js';
import type { AuditRecord } from './audit-record.js';
import { outageReason, recordOutage } from './provider-outage.js';
import { joinFlight, SingleFlight } from './single-flight.js';
import { rememberJudgement, storedNeighbours } from './stored-judgements.js';
import { inSlot, type WorkGate } from './work-gate.js';

/**
 * POST /analyse/image as a use case: download, identify (sha256, then perceptual hash), reuse an
 * earlier decision when the policy allows, otherwise ask the image moderator and remember its answer.
 *
 * Concurrent requests share work instead of repeating it: the same URL in flight is downloaded once,
 * the same bytes are judged once, and a near-identical picture waits for the judgement of one being
 * judged right now. Shared work runs without any one caller's abort signal, so a client that hangs up
 * does not fail the others; it still finishes, and its answer is stored for the next request.
 */

/** Work in progress, shared by every request of the process. */
export type ImageInFlight = {
  byUrl: SingleFlight<ImageAnalysis>;
  bySha256: SingleFlight<ImageAnalysis>;
  /** Pictures waiting for their provider's answer, by perceptual hash. */
  judging: Set<{ hash: PerceptualHash; url: string; done: Promise<ImageAnalysis | undefined> }>;
};

export function createImageInFlight(): ImageInFlight {
  return { byUrl: new SingleFlight(), bySha256: new SingleFlight(), judging: new Set() };
}

export type ImageAnalysisDeps = {
  store: Store;
  downloader: Downloader;
  imageModerator: ImageModerator;
  dedupe: NearDuplicateLimits & { minDetail: number };
  imageMaxPixels: number;
  inFlight: ImageInFlight;
  /** Slots for new analyses, shared with video. */
  workGate: WorkGate;
  /** The answer when the classifier fails (PROVIDER_OUTAGE_DECISION). */
  outageDecision: Decision;
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
  /** The stored judgement (images.id) this answer comes from, when there is one. */
  storedId?: number | undefined;
};

/** How many of them, closest first, the response shows. */
const SIMILAR_ITEMS_LIMIT = 5;

export async function analyseImage(deps: ImageAnalysisDeps, request: { url: string }, audit: AuditRecord): Promise<ImageAnalysis> {
  const flight = deps.inFlight.byUrl.run(request.url, (trail) => inSlot(deps.workGate, () => analyseUrl(deps, request.url, trail)));
  return joinFlight(flight, audit);
}

async function analyseUrl(deps: ImageAnalysisDeps, url: string, trail: AuditRecord): Promise<ImageAnalysis> {
  const { bytes } = await deps.downloader.download(url);
  const sha256 = sha256Hex(bytes);
  trail.sha256 = sha256;
  const flight = deps.inFlight.bySha256.run(sha256, (shaTrail) => judgeBytes(deps, url, bytes, sha256, shaTrail));
  return joinFlight(flight, trail);
}

async function judgeBytes(deps: ImageAnalysisDeps, url: string, bytes: Buffer, sha256: string, trail: AuditRecord): Promise<ImageAnalysis> {
  trail.sha256 = sha256;
  const moderator = deps.imageModerator;
  // Only the current provider's judgements are reused: after switching from the local model to
  // SightEngine, say, an image passed by the local model (which sees no weapons) is judged again.
  const exact = await deps.store.findImageBySha256(sha256);
  if (exact && exact.provider === moderator.name) {
    trail.phash = exact.phash;
    return reuse(exact, 0, 'cache_exact', trail, [toSimilarItem({ ...exact, distance: 0 })]);
  }

  const { mime, format } = await sniffImageFormat(bytes);
  const decoded = await decodeImage(bytes, { maxPixels: deps.imageMaxPixels });
  const phash = computePerceptualHash(decoded.pixels);
  const lowDetail = detailLevel(decoded.pixels) < deps.dedupe.minDetail;
  const traits = { lowDetail, animated: decoded.animated };
  trail.phash = phash?.hex ?? null;
  const identity = { sha256, phash: phash?.hex ?? null };

  // Taken before the store is asked: a picture that finishes (is stored, and leaves `judging`) while
  // we wait is then still found in one of the two places.
  const judgingBefore = [...deps.inFlight.judging];
  const { neighbours, reusable } = await storedNeighbours(deps, phash, traits, moderator.name);
  const similarItems = [...neighbours]
    .sort((a, b) => a.distance - b.distance)
    .slice(0, SIMILAR_ITEMS_LIMIT)
    .map(toSimilarItem);
  if (reusable) return { ...reuse(reusable, reusable.distance, 'cache_near', trail, similarItems), ...identity };

  // A near-identical picture is being judged right now (a batch holding an upload and its thumbnail):
  // wait for that answer rather than paying for a second one. The check and the registration below
  // happen without an await in between, so two such pictures cannot both miss each other.
  const judgingNow = phash ? nearestWithin(new Set([...judgingBefore, ...deps.inFlight.judging]), (entry) => entry.hash, phash, lookupRadius(deps.dedupe)) : undefined;
  if (judgingNow) {
    const other = await judgingNow.item.done;
    const neighbour = other && other.source !== 'error' ? { ...other, distance: judgingNow.distance } : undefined;
    if (neighbour && chooseReusableNeighbour([neighbour], traits, deps.dedupe)) {
      return { ...reuseInFlight(neighbour, judgingNow.item.url, trail, similarItems), ...identity };
    }
  }

  let announce: (result: ImageAnalysis | undefined) => void = () => undefined;
  const entry = phash && !lowDetail ? { hash: phash, url, done: new Promise<ImageAnalysis | undefined>((resolve) => (announce = resolve)) } : undefined;
  if (entry) deps.inFlight.judging.add(entry);
  try {
    const result = { ...(await askModerator(deps, { url, bytes, mime, format, decoded, phash, lowDetail }, trail, similarItems)), ...identity };
    announce(result);
    return result;
  } catch (error) {
    announce(undefined);
    throw error;
  } finally {
    if (entry) deps.inFlight.judging.delete(entry);
  }
}

type Identified = {
  url: string;
  bytes: Buffer;
  mime: string;
  format: string;
  decoded: Awaited<ReturnType<typeof decodeImage>>;
  phash: PerceptualHash | null;
  lowDetail: boolean;
};

async function askModerator(deps: ImageAnalysisDeps, image: Identified, trail: AuditRecord, similarItems: SimilarItem[]): Promise<Omit<ImageAnalysis, 'sha256' | 'phash'>> {
  const moderator = deps.imageModerator;
  trail.provider = moderator.name;
  const pixels = moderator.pixelSize ? await decodeForClassifier(image.bytes, { size: moderator.pixelSize, maxPixels: deps.imageMaxPixels }) : undefined;
  try {
    const judged = await moderator.moderate({ bytes: image.bytes, mime: image.mime, ...(pixels && { pixels }) });
    trail.rawResponse = judged.rawResponse;
    const imageId = await rememberJudgement(
      deps.store,
      {
        sha256: trail.sha256 as string,
        phash: image.phash,
        lowDetail: image.lowDetail,
        animated: image.decoded.animated,
        width: image.decoded.width,
        height: image.decoded.height,
        format: image.format,
        sourceUrl: image.url,
      },
      judged,
    );
    Object.assign(trail, { decision: judged.decision, reason: judged.reason, source: moderator.source, provider: judged.provider });
    return {
      isDuplicate: false,
      decision: judged.decision,
      reason: judged.reason,
      reviewDetails: judged.details,
      similarItems,
      source: moderator.source,
      provider: judged.provider,
      storedId: imageId,
    };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    // An outage must not fail the caller's upload with a 500, nor let content through unless so
    // configured: the image gets the outage decision and nothing is cached, so the next request asks again.
    const decision = deps.outageDecision;
    const reason = outageReason(decision, 'the image', error);
    recordOutage(trail, decision, reason, error);
    return { isDuplicate: false, decision, reason, reviewDetails: {}, similarItems, source: 'error', provider: error.provider };
  }
}

/** Reuses the answer just given for a near-identical picture that was being judged meanwhile. */
function reuseInFlight(other: ImageAnalysis & { distance: number }, url: string, trail: AuditRecord, similarItems: SimilarItem[]): ImageAnalysis {
  const item: SimilarItem = { url, similarity: other.distance, decision: other.decision, labels: Object.keys(other.reviewDetails) };
  Object.assign(trail, {
    decision: other.decision,
    reason: other.reason,
    source: 'cache_near',
    provider: other.provider,
    matchedItemId: other.storedId ?? null,
    matchedDistance: other.distance,
    joinedInFlight: true,
  });
  return { ...other, isDuplicate: true, source: 'cache_near', similarItems: [item, ...similarItems].slice(0, SIMILAR_ITEMS_LIMIT) };
}

function toSimilarItem(image: SimilarImage): SimilarItem {
  return { url: image.sourceUrl, similarity: image.distance, decision: image.decision, labels: Object.keys(image.labels) };
}

function reuse(image: JudgedImage, distance: number, source: 'cache_exact' | 'cache_near', trail: AuditRecord, similarItems: SimilarItem[]): ImageAnalysis {
  Object.assign(trail, {
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
    storedId: image.id,
  };
}
