import type { Decision } from './thresholds.js';

/** What every text classifier (Gemini, the offline rules) offers the text use case. */

export const textCategories = [
  'hate',
  'harassment',
  'threat',
  'sexual',
  'sexual_minors',
  'self_harm',
  'violence',
  'extremism',
  'illegal_goods',
  'spam',
  'scam',
  'personal_data',
  'profanity',
] as const;

export type TextCategory = (typeof textCategories)[number];

export type TextInput = {
  text: string;
  /** Earlier messages of the thread, oldest first: context for understanding, not themselves judged. */
  context: string[];
};

export type TextModeration = {
  decision: Decision;
  reason: string;
  categories: TextCategory[];
  provider: string;
  rawResponse: unknown;
};

export interface TextModerator {
  readonly name: string;
  /** `provider`: a paid external service; `local`: judged inside this process. */
  readonly source: 'provider' | 'local';
  moderate(input: TextInput, signal?: AbortSignal): Promise<TextModeration>;
}

export function isTextCategory(value: string): value is TextCategory {
  return (textCategories as readonly string[]).includes(value);
}
