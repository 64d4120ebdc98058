import { severity, type Decision } from '../providers/thresholds.js';

/**
 * When may a near neighbour's decision stand in for a provider call? Pure, so it is tested on its
 * own and the distances stay configuration (DEDUPE_PASS_MAX_DISTANCE, DEDUPE_FLAGGED_MAX_DISTANCE).
 *
 * - A neighbour judged `review` or `flagged` is reused up to the wider distance: looking like
 *   something bad is worth the same answer.
 * - A `pass` is reused only when very close, and never for a picture whose hash says little about
 *   it: near-uniform images (almost any flat picture hashes alike) and animated images (we hash the
 *   first frame; a later frame may differ).
 * - When both kinds are in reach, the cautious answer wins.
 */

export type NearDuplicateLimits = { passMaxDistance: number; flaggedMaxDistance: number };
export type QueryTraits = { lowDetail: boolean; animated: boolean };
export type Neighbour = { decision: Decision; distance: number };

export function lookupRadius(limits: NearDuplicateLimits): number {
  return Math.max(limits.passMaxDistance, limits.flaggedMaxDistance);
}

/** Returns the neighbour whose decision may be reused, or null when the provider must be asked. */
export function chooseReusableNeighbour<T extends Neighbour>(neighbours: T[], traits: QueryTraits, limits: NearDuplicateLimits): T | null {
  const byCloseness = [...neighbours].sort((a, b) => a.distance - b.distance || severity[b.decision] - severity[a.decision]);
  const cautious = byCloseness.find((n) => n.decision !== 'pass' && n.distance <= limits.flaggedMaxDistance);
  if (cautious) return cautious;
  if (traits.lowDetail || traits.animated) return null;
  return byCloseness.find((n) => n.decision === 'pass' && n.distance <= limits.passMaxDistance) ?? null;
}
