import { describe, expect, it } from 'vitest';
import { chooseReusableNeighbour } from '../src/dedupe/near-duplicate-policy.js';
import { decideFromScores, defaultThresholds } from '../src/providers/thresholds.js';

const limits = { passMaxDistance: 6, flaggedMaxDistance: 12 };
const detailed = { lowDetail: false, animated: false };

describe('near-duplicate reuse policy', () => {
  it('reuses a close pass, but not one beyond the pass distance', () => {
    expect(chooseReusableNeighbour([{ decision: 'pass', distance: 6 }], detailed, limits)?.distance).toBe(6);
    expect(chooseReusableNeighbour([{ decision: 'pass', distance: 7 }], detailed, limits)).toBeNull();
  });

  it('reuses a flagged or review neighbour up to the wider distance', () => {
    expect(chooseReusableNeighbour([{ decision: 'flagged', distance: 12 }], detailed, limits)?.decision).toBe('flagged');
    expect(chooseReusableNeighbour([{ decision: 'review', distance: 10 }], detailed, limits)?.decision).toBe('review');
    expect(chooseReusableNeighbour([{ decision: 'flagged', distance: 13 }], detailed, limits)).toBeNull();
  });

  it('prefers the cautious answer when a pass and a flagged neighbour are both in reach', () => {
    const chosen = chooseReusableNeighbour(
      [
        { decision: 'pass', distance: 1 },
        { decision: 'flagged', distance: 9 },
      ],
      detailed,
      limits,
    );
    expect(chosen?.decision).toBe('flagged');
  });

  it('never reuses a pass for flat or animated pictures, but still reuses a flag', () => {
    for (const traits of [{ lowDetail: true, animated: false }, { lowDetail: false, animated: true }]) {
      expect(chooseReusableNeighbour([{ decision: 'pass', distance: 0 }], traits, limits)).toBeNull();
      expect(chooseReusableNeighbour([{ decision: 'flagged', distance: 3 }], traits, limits)?.decision).toBe('flagged');
    }
  });
});

describe('threshold table', () => {
  const table = defaultThresholds({ review: 0.5, flag: 0.85 });

  it('maps scores to pass, review and flagged, naming what was reached', () => {
    expect(decideFromScores({ sexual: 0.1, weapon: 0.2 }, table)).toMatchObject({ decision: 'pass', details: {} });
    expect(decideFromScores({ weapon: 0.6 }, table)).toMatchObject({ decision: 'review', details: { weapon: { level: 'review', threshold: 0.5 } } });
    const flagged = decideFromScores({ weapon: 0.6, gore: 0.9 }, table);
    expect(flagged.decision).toBe('flagged');
    expect(flagged.reason).toBe('gore 0.90 >= 0.85 (flagged); weapon 0.60 >= 0.5 (review)');
  });

  it('only ever asks for review on suggestive content, and only when confident', () => {
    expect(decideFromScores({ suggestive: 0.8 }, table).decision).toBe('pass');
    expect(decideFromScores({ suggestive: 0.99 }, table).decision).toBe('review');
  });
});
