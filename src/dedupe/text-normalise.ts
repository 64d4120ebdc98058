import { sha256Hex } from './content-digest.js';

/**
 * Text identity for the exact cache. Two messages are "the same" when they are equal after:
 * Unicode NFKC (full-width and compatibility forms folded: "ＷＯＲＬＤ" = "WORLD"), lower case, and
 * every run of white space collapsed to one space with none at either end. The context is part of
 * the identity: the same words can mean something else in another conversation.
 */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** Digest of one normalised message: the identifier stored in moderation_log. */
export function textDigest(text: string): string {
  return sha256Hex(Buffer.from(normaliseText(text), 'utf8'));
}

/** Digest of the message together with its context: the key of the judged-text cache. */
export function textCacheKey(text: string, context: string[]): string {
  return sha256Hex(Buffer.from(JSON.stringify([normaliseText(text), context.map(normaliseText)]), 'utf8'));
}
