import { chooseReusableNeighbour, lookupRadius, type NearDuplicateLimits, type QueryTraits } from '../dedupe/near-duplicate-policy.js';
import type { PerceptualHash } from '../dedupe/perceptual-hash.js';
import type { ImageModeration } from '../providers/image-moderator.js';
import type { NewJudgedImage, SimilarImage, Store } from '../store/store.js';

/**
 * The stored side of judging a picture, shared by images and video frames: which earlier
 * judgements are near it, which of them the reuse policy lets stand in for a provider call, and
 * remembering a new judgement for the next request.
 */

/** How many neighbours the reuse policy sees (the store lists review/flagged ones first). */
const NEIGHBOURS_CONSIDERED = 20;

export type StoredJudgementDeps = { store: Store; dedupe: NearDuplicateLimits };

/**
 * Stored judgements of `provider` near `hash`, and the one that may be reused. A picture without a
 * hash (smaller than the hash grid) has no neighbours: exact matches only.
 */
export async function storedNeighbours(
  deps: StoredJudgementDeps,
  hash: PerceptualHash | null,
  traits: QueryTraits,
  provider: string,
): Promise<{ neighbours: SimilarImage[]; reusable: SimilarImage | null }> {
  const neighbours = hash ? await deps.store.findSimilarImages(hash, lookupRadius(deps.dedupe), NEIGHBOURS_CONSIDERED, provider) : [];
  return { neighbours, reusable: chooseReusableNeighbour(neighbours, traits, deps.dedupe) };
}

/**
 * Stores a moderator's judgement of a picture and returns its images.id; undefined for an answer
 * that must not be reused (see ImageModeration.cacheable).
 */
export async function rememberJudgement(
  store: Store,
  picture: Omit<NewJudgedImage, 'decision' | 'reason' | 'labels' | 'scores' | 'provider'>,
  judged: ImageModeration,
): Promise<number | undefined> {
  if (!judged.cacheable) return undefined;
  const { id } = await store.saveJudgedImage({
    ...picture,
    decision: judged.decision,
    reason: judged.reason,
    labels: judged.details,
    scores: judged.scores,
    provider: judged.provider,
  });
  return id;
}
