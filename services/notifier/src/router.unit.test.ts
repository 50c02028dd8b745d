import { describe, expect, it } from 'vitest';
import { EMBEDDED_BYTES_PER_TRANSACTION, MAX_EMBEDDED_EVENT_BYTES, shouldEmbed } from './router.js';

describe('what a routing transaction copies', () => {
  it('embeds small events, references large ones', () => {
    expect(shouldEmbed(2_000, 3, 0)).toBe(true);
    expect(shouldEmbed(MAX_EMBEDDED_EVENT_BYTES + 1, 1, 0)).toBe(false);
  });

  it('stops embedding once the transaction has copied its budget, however many subscriptions an event has', () => {
    // A 50 kB comment to 1,000 subscriptions would copy 50 MB: referenced instead.
    expect(shouldEmbed(50_000, 1_000, 0)).toBe(false);
    expect(shouldEmbed(50_000, 10, EMBEDDED_BYTES_PER_TRANSACTION - 400_000)).toBe(false);
    expect(shouldEmbed(50_000, 10, EMBEDDED_BYTES_PER_TRANSACTION - 500_000)).toBe(true);
    // So the embedded bytes of one transaction never exceed the budget.
    let embedded = 0;
    for (let i = 0; i < 500; i++) if (shouldEmbed(60_000, 20, embedded)) embedded += 60_000 * 20;
    expect(embedded).toBeLessThanOrEqual(EMBEDDED_BYTES_PER_TRANSACTION);
  });
});
