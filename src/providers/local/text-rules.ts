import type { TextCategory } from '../text-moderator.js';

/**
 * Pattern detectors of the offline text moderator. Pure functions over already-normalised text
 * (NFKC, lower case, single spaces), so each can be tested with a table of messages.
 */

export type RuleHit = { category: TextCategory; evidence: string };

/**
 * Joins runs of single characters separated by spaces or punctuation ("f u c k", "f.u.c.k") so
 * the word matcher sees the word. Only runs of three or more single characters are joined, which
 * leaves ordinary words and their boundaries alone.
 */
export function joinSpacedLetters(text: string): string {
  return text.replace(/(?<![\p{L}\p{N}])(?:[\p{L}\p{N}@$!*][\s._\-*+]{1,3}){2,}[\p{L}\p{N}@$!*](?![\p{L}\p{N}])/gu, (run) =>
    run.replace(/[\s._\-*+]/g, ''),
  );
}

const threat =
  /\b(?:i(?:'?ll| will| am going to|'?m (?:going to|gonna)| gonna| want to| wanna)|we(?:'?ll| will| are going to|'re gonna))(?: \w+)? (?:kill|murder|shoot|stab|rape|hurt|beat|strangle|bomb|behead|find) (?:you|u|ya|him|her|them|your (?:family|kids|mom|mum|dad))\b/;
const toldToDie = /\b(?:kys|kill (?:yo)?urself|go (?:and )?die|hope you die|neck yourself)\b/;
const selfHarm =
  /\b(?:i (?:want|wanna|am going|'?m going|plan|need) to (?:die|kill myself|end (?:it all|my life))|suicid(?:e|al)|cut(?:ting)? myself|self[- ]?harm(?:ing)?|hurt(?:ing)? myself)\b/;
// Repetitions are bounded (by the lengths the standards allow) so that a long run of letters or
// digits cannot make matching quadratic.
const email = /(?<![a-z0-9._%+-])[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.[a-z]{2,24}/;
const phoneCandidate = /(?:\+|\b)\d[\d ().-]{7,24}\d\b/g;
const cardCandidate = /\b(?:\d[ -]?){12,18}\d\b/g;
const link = /\b(?:https?:\/\/|www\.)\S+/g;
const shortener = /\b(?:bit\.ly|tinyurl\.com|t\.co|goo\.gl|ow\.ly|is\.gd|cutt\.ly|rb\.gy|shorturl\.at|t\.me)\//;
const scam =
  /\b(?:free (?:money|bitcoin|btc|crypto|iphone|gift ?cards?|followers)|double your (?:money|bitcoin|btc|crypto|investment)|guaranteed (?:profits?|returns?|income)|(?:dm|message|text|whatsapp|telegram) me (?:for|to) (?:invest|earn|profit|details|make money)|investment opportunit(?:y|ies)|click (?:here|the link|this link) to (?:claim|win|get)|you(?: have|'ve)? won (?:a|an|the|our)|claim your (?:prize|reward|gift)|send (?:me )?(?:btc|bitcoin|usdt|eth|gift ?cards?)|earn \$?\d+[k]? (?:a|per) (?:day|week|hour) from home)\b/;

function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

export function detectThreats(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  const threatMatch = threat.exec(text);
  if (threatMatch) hits.push({ category: 'threat', evidence: threatMatch[0] });
  const dieMatch = toldToDie.exec(text);
  if (dieMatch) hits.push({ category: 'harassment', evidence: dieMatch[0] });
  return hits;
}

export function detectSelfHarm(text: string): RuleHit[] {
  const match = selfHarm.exec(text);
  return match ? [{ category: 'self_harm', evidence: match[0] }] : [];
}

export function detectPersonalData(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  const emailMatch = email.exec(text);
  if (emailMatch) hits.push({ category: 'personal_data', evidence: 'an email address' });
  for (const match of text.matchAll(cardCandidate)) {
    const digits = match[0].replace(/\D/g, '');
    if (digits.length >= 13 && luhnValid(digits)) {
      hits.push({ category: 'personal_data', evidence: 'a payment card number' });
      break;
    }
  }
  for (const match of text.matchAll(phoneCandidate)) {
    const digits = match[0].replace(/\D/g, '');
    // Phone numbers have 9 to 15 digits (E.164). A bare run of digits is only taken for one from 10
    // digits up (a 9-digit number is as likely a score or an order number); dates are skipped.
    const formatted = /[+ ().-]/.test(match[0]);
    const plausibleLength = digits.length <= 15 && digits.length >= (formatted ? 9 : 10);
    if (plausibleLength && !/^\d{4}-\d{2}-\d{2}/.test(match[0]) && !hits.some((hit) => hit.evidence.includes('card'))) {
      hits.push({ category: 'personal_data', evidence: 'a phone number' });
      break;
    }
  }
  return hits;
}

export function detectSpam(text: string): RuleHit[] {
  const hits: RuleHit[] = [];
  const scamMatch = scam.exec(text);
  if (scamMatch) hits.push({ category: 'scam', evidence: scamMatch[0] });
  const links = text.match(link) ?? [];
  if (links.length >= 3) hits.push({ category: 'spam', evidence: `${links.length} links` });
  else if (shortener.test(text)) hits.push({ category: 'spam', evidence: 'a link shortener' });
  if (/(.)\1{19,}/u.test(text)) hits.push({ category: 'spam', evidence: 'a character repeated 20 times or more' });
  return hits;
}
