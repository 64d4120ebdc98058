import { describe, expect, it } from 'vitest';
import { LocalTextModerator } from '../src/providers/local/local-text-moderator.js';
import { joinSpacedLetters } from '../src/providers/local/text-rules.js';

/** The offline text moderator on a table of messages, the way a community sees them. */

const moderator = new LocalTextModerator();
const judge = (text: string) => moderator.moderate({ text, context: [] });

describe('offline text moderator', () => {
  it.each([
    'Hello, how are you?',
    'Great photo, where was it taken?',
    'The class assignment is due on Friday',
    'Scunthorpe United won again',
    'Our sex education class covers consent',
    'The meeting is on 2024-05-01 at 10:30',
    'I scored 123456789 points in that game',
    'See https://example.com for the rules',
    'That movie was killer, I want to see it again',
    'Ｈｅｌｌｏ ｆｒｉｅｎｄｓ',
  ])('passes a clean message: %s', async (text) => {
    expect(await judge(text)).toMatchObject({ decision: 'pass', categories: [] });
  });

  it.each([
    ['you are a fucking idiot', 'review', 'profanity'],
    ['what a b!tch', 'review', 'profanity'],
    ['sh1t happens', 'review', 'profanity'],
    ['fuuuuuuck this', 'review', 'profanity'],
    ['you are a f u c k i n g idiot', 'review', 'profanity'],
    ['f.u.c.k off', 'review', 'profanity'],
    ['n1gg3r', 'flagged', 'hate'],
    ['F.A.G.G.O.T', 'flagged', 'hate'],
    ['go back home you k i k e', 'flagged', 'hate'],
    ['send me your blowjob pics', 'review', 'sexual'],
  ])('catches abusive and evaded words: %s', async (text, decision, category) => {
    const result = await judge(text);
    expect(result.decision).toBe(decision);
    expect(result.categories).toContain(category);
  });

  it.each([
    ["I'm going to kill you", 'flagged', 'threat'],
    ['we will find your family', 'flagged', 'threat'],
    ['kys loser', 'flagged', 'harassment'],
    ['just go and die', 'flagged', 'harassment'],
    ['I want to end it all', 'review', 'self_harm'],
    ['I have been cutting myself again', 'review', 'self_harm'],
  ])('catches threats and self-harm: %s', async (text, decision, category) => {
    const result = await judge(text);
    expect(result).toMatchObject({ decision });
    expect(result.categories).toContain(category);
  });

  it.each([
    ['mail me at bob.smith@example.co.uk', 'an email address'],
    ['call +44 20 7946 0958 after six', 'a phone number'],
    ['my number is (555) 123-4567', 'a phone number'],
    ['text 5551234567', 'a phone number'],
    ['card 4111 1111 1111 1111 exp 12/29', 'a payment card number'],
  ])('asks for review on personal data: %s', async (text, evidence) => {
    const result = await judge(text);
    expect(result).toMatchObject({ decision: 'review', categories: ['personal_data'] });
    expect(result.reason).toContain(evidence);
  });

  it('does not mistake a non-Luhn digit run for a card', async () => {
    expect((await judge('order 1234 5678 9012 3456')).reason).not.toContain('card');
  });

  it.each([
    ['FREE BITCOIN!!! dm me to invest', 'flagged', 'scam'],
    ['Claim your prize at our site', 'flagged', 'scam'],
    ['visit https://a.example https://b.example https://c.example', 'review', 'spam'],
    ['cheap followers bit.ly/abc123', 'review', 'spam'],
    ['heyyyyyyyyyyyyyyyyyyyyyyyyyyy', 'review', 'spam'],
  ])('catches spam and scams: %s', async (text, decision, category) => {
    const result = await judge(text);
    expect(result.decision).toBe(decision);
    expect(result.categories).toContain(category);
  });

  it('names what it found without repeating the user\'s spelling', async () => {
    const result = await judge('n1gg3r and f u c k');
    expect(result.reason).toBe('hate: "nigger"; profanity: "fuck"');
    expect(result.provider).toBe('local');
  });
});

describe('joinSpacedLetters', () => {
  it('joins runs of single letters and leaves words alone', () => {
    expect(joinSpacedLetters('you f u c k i n g idiot')).toBe('you fucking idiot');
    expect(joinSpacedLetters('f.u.c.k')).toBe('fuck');
    expect(joinSpacedLetters('a b testing')).toBe('a b testing');
    expect(joinSpacedLetters('class assignment')).toBe('class assignment');
  });
});
