import type { CategoryScores } from '../thresholds.js';

/**
 * SightEngine answers with one key per model, each in its own shape (see shared provider notes):
 * `nudity` is flat with no `prob`, `weapon` nests `classes`, `offensive` is flat, others carry a
 * `prob`. Each extractor reads only what it knows and treats a missing field as "no signal", so a
 * new or partial answer never crashes parsing. Models we do not map stay in the raw response.
 */

type Json = Record<string, unknown>;

function score(source: unknown, ...path: string[]): number | undefined {
  let current: unknown = source;
  for (const key of path) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Json)[key];
  }
  return typeof current === 'number' && Number.isFinite(current) ? Math.min(1, Math.max(0, current)) : undefined;
}

function highest(...values: (number | undefined)[]): number | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length === 0 ? undefined : Math.max(...present);
}

export function extractScores(response: Json): CategoryScores {
  const scores: CategoryScores = {};
  const set = (category: keyof CategoryScores, value: number | undefined) => {
    if (value !== undefined) scores[category] = highest(scores[category], value);
  };

  const nudity = response.nudity;
  set('sexual', highest(score(nudity, 'sexual_activity'), score(nudity, 'sexual_display'), score(nudity, 'erotica')));
  set('suggestive', highest(score(nudity, 'very_suggestive'), score(nudity, 'suggestive_classes', 'visibly_undressed')));

  const weapon = response.weapon;
  set('weapon', highest(score(weapon, 'classes', 'firearm'), score(weapon, 'classes', 'knife'), score(weapon, 'prob')));

  set('drugs', score(response.recreational_drug, 'prob'));
  set('gore', score(response.gore, 'prob'));
  set('violence', score(response.violence, 'prob'));
  set('self_harm', score(response['self-harm'], 'prob'));

  const offensive = response.offensive;
  set(
    'hate_symbols',
    highest(
      score(offensive, 'nazi'),
      score(offensive, 'confederate'),
      score(offensive, 'supremacist'),
      score(offensive, 'terrorist'),
      score(offensive, 'prob'),
    ),
  );
  set('offensive_gesture', score(offensive, 'middle_finger'));
  return scores;
}
