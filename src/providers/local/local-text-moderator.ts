import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';
import { worseDecision, type Decision } from '../thresholds.js';
import type { TextCategory, TextInput, TextModeration, TextModerator } from '../text-moderator.js';
import { observeCall, type ProviderObserver } from '../provider-observer.js';
import { detectPersonalData, detectSelfHarm, detectSpam, detectThreats, joinSpacedLetters, type RuleHit } from './text-rules.js';

/**
 * The offline text moderator, used when no Gemini key is set. Abusive words come from the
 * `obscenity` library (English word list with leetspeak, look-alike characters and repeated
 * letters resolved; the only module that imports it); threats, self-harm, personal data and spam
 * come from our own patterns. It reads the message only, never the thread context, and knows
 * English only: see the README for what it does not catch.
 */

const PROVIDER = 'local';

// Words of the obscenity English list grouped by what they mean on a community platform.
const slurs = new Set(['abeed', 'abo', 'africoon', 'arabush', 'boonga', 'chingchong', 'chink', 'dyke', 'fag', 'kike', 'negro', 'nigger', 'retard', 'spastic', 'tranny']);
const sexualTerms = new Set([
  'anal', 'bestiality', 'blowjob', 'buttplug', 'cum', 'deepthroat', 'dildo', 'doggystyle', 'double penetration', 'ejaculate', 'felch',
  'fellatio', 'finger bang', 'fisting', 'gangbang', 'handjob', 'hentai', 'incest', 'jerk off', 'jizz', 'lubejob', 'masturbate',
  'orgasm', 'orgy', 'porn', 'semen', 'hooker', 'rape',
]);
// Anatomy and plain words that appear in ordinary conversation (health, education) are not signals.
const ignored = new Set(['sex', 'penis', 'vagina', 'anus', 'boob']);

/** How serious each category is when found by these rules. */
export const localDecisionByCategory: Partial<Record<TextCategory, Decision>> = {
  hate: 'flagged',
  threat: 'flagged',
  harassment: 'flagged',
  scam: 'flagged',
  sexual: 'review',
  profanity: 'review',
  self_harm: 'review',
  personal_data: 'review',
  spam: 'review',
};

export class LocalTextModerator implements TextModerator {
  readonly name = PROVIDER;
  readonly source = 'local' as const;
  private readonly matcher = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });

  constructor(private readonly options: { observer?: ProviderObserver | undefined } = {}) {}

  moderate(input: TextInput): Promise<TextModeration> {
    return observeCall(this.options.observer, PROVIDER, async () => this.judge(input));
  }

  private judge(input: TextInput): TextModeration {
    const text = input.text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
    const hits = [...this.wordHits(text), ...detectThreats(text), ...detectSelfHarm(text), ...detectPersonalData(text), ...detectSpam(text)];

    let decision: Decision = 'pass';
    const categories: TextCategory[] = [];
    for (const hit of hits) {
      decision = worseDecision(decision, localDecisionByCategory[hit.category] ?? 'review');
      if (!categories.includes(hit.category)) categories.push(hit.category);
    }
    const reason =
      hits.length === 0
        ? 'no rule matched'
        : hits.map((hit) => `${hit.category}: ${hit.evidence}`).filter((line, index, all) => all.indexOf(line) === index).join('; ');
    return { decision, reason, categories, provider: PROVIDER, rawResponse: { rules: hits } };
  }

  private wordHits(text: string): RuleHit[] {
    const hits: RuleHit[] = [];
    for (const candidate of new Set([text, joinSpacedLetters(text)])) {
      for (const match of this.matcher.getAllMatches(candidate, true)) {
        const word = englishDataset.getPayloadWithPhraseMetadata(match).phraseMetadata?.originalWord;
        if (!word || ignored.has(word)) continue;
        const category: TextCategory = slurs.has(word) ? 'hate' : sexualTerms.has(word) ? 'sexual' : 'profanity';
        // Evidence names the category and the listed word, never the user's spelling of it.
        if (!hits.some((hit) => hit.evidence === `"${word}"`)) hits.push({ category, evidence: `"${word}"` });
      }
    }
    return hits;
  }
}
