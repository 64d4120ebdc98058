/**
 * The threshold table: one pair of cut-offs per moderation category, shared by every image
 * moderator (SightEngine today, the local classifier and video frames later), so a category means
 * the same thing whichever provider scored it.
 */

export const moderationCategories = [
  'sexual',
  'suggestive',
  'weapon',
  'drugs',
  'gore',
  'violence',
  'hate_symbols',
  'offensive_gesture',
  'self_harm',
] as const;

export type ModerationCategory = (typeof moderationCategories)[number];

/** A score at or above `review` asks for a human look; at or above `flag` it is flagged. */
export type Threshold = { review: number; flag: number };
export type ThresholdTable = Record<ModerationCategory, Threshold>;

export type Decision = 'pass' | 'review' | 'flagged';

const NEVER = 1.01;

/**
 * Defaults follow the original service (review at 0.5, flag above 0.85). Suggestive content
 * (swimwear, lingerie) is legitimate on most platforms, so it only ever asks for review, and only
 * when the model is confident.
 */
export function defaultThresholds(base: Threshold): ThresholdTable {
  const table = Object.fromEntries(moderationCategories.map((category) => [category, { ...base }])) as ThresholdTable;
  table.suggestive = { review: Math.max(base.flag, base.review), flag: NEVER };
  return table;
}

/**
 * Applies overrides written as `category=review:flag` pairs separated by commas, e.g.
 * `sexual=0.4:0.7,suggestive=0.9:1.01`. A flag value above 1 means "never flag".
 */
export function parseThresholdOverrides(table: ThresholdTable, spec: string): ThresholdTable {
  const result: ThresholdTable = structuredClone(table);
  for (const part of spec.split(',').map((piece) => piece.trim()).filter(Boolean)) {
    const match = /^([a-z_]+)=([0-9.]+):([0-9.]+)$/.exec(part);
    if (!match) throw new Error(`"${part}" is not of the form category=review:flag`);
    const [, name, reviewText, flagText] = match as unknown as [string, string, string, string];
    if (!(moderationCategories as readonly string[]).includes(name)) {
      throw new Error(`unknown category "${name}" (known: ${moderationCategories.join(', ')})`);
    }
    const review = Number(reviewText);
    const flag = Number(flagText);
    if (!(review >= 0 && review <= 1.01 && flag >= 0 && flag <= 1.01 && review <= flag)) {
      throw new Error(`"${part}": need 0 <= review <= flag <= 1.01`);
    }
    result[name as ModerationCategory] = { review, flag };
  }
  return result;
}

export type CategoryScores = Partial<Record<ModerationCategory, number>>;

export type CategoryDetail = { score: number; level: 'review' | 'flagged'; threshold: number };
export type ReviewDetails = Partial<Record<ModerationCategory, CategoryDetail>>;

export type ScoredDecision = {
  decision: Decision;
  reason: string;
  /** Only the categories that reached review or flag. */
  details: ReviewDetails;
};

/** Order of seriousness, for "the worse of two decisions". */
export const severity: Record<Decision, number> = { pass: 0, review: 1, flagged: 2 };

export function worseDecision(a: Decision, b: Decision): Decision {
  return severity[b] > severity[a] ? b : a;
}

/** Turns category scores into a decision with the threshold table. Pure. */
export function decideFromScores(scores: CategoryScores, table: ThresholdTable): ScoredDecision {
  const details: ReviewDetails = {};
  let decision: Decision = 'pass';
  for (const category of moderationCategories) {
    const score = scores[category];
    if (score === undefined) continue;
    const threshold = table[category];
    if (score >= threshold.flag) {
      details[category] = { score, level: 'flagged', threshold: threshold.flag };
      decision = 'flagged';
    } else if (score >= threshold.review) {
      details[category] = { score, level: 'review', threshold: threshold.review };
      decision = worseDecision(decision, 'review');
    }
  }
  const reached = Object.entries(details)
    .sort(([, a], [, b]) => b.score - a.score)
    .map(([category, detail]) => `${category} ${detail.score.toFixed(2)} >= ${detail.threshold} (${detail.level})`);
  const reason = reached.length === 0 ? 'no category reached its review threshold' : reached.join('; ');
  return { decision, reason, details };
}
