import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { messageBytes, splitBySize } from './sizing.js';

describe('splitBySize', () => {
  it('keeps every message, in order per topic, with no request over the limit unless one message alone is', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ topic: fc.constantFrom('a', 'b'), size: fc.integer({ min: 0, max: 3_000 }) }), { maxLength: 200 }),
        fc.integer({ min: 500, max: 5_000 }),
        (specs, limit) => {
          const input = ['a', 'b'].map((topic) => ({
            topic,
            messages: specs.filter((s) => s.topic === topic).map((s, i) => ({ key: String(i), value: 'x'.repeat(s.size) })),
          }));
          const requests = splitBySize(input, limit);
          for (const topic of ['a', 'b']) {
            const sent = requests.flatMap((r) => r.filter((t) => t.topic === topic).flatMap((t) => t.messages));
            expect(sent).toEqual(input.find((t) => t.topic === topic)!.messages);
          }
          for (const request of requests) {
            const messages = request.flatMap((t) => t.messages);
            const bytes = messages.reduce((sum, m) => sum + messageBytes(m), 0);
            if (messages.length > 1) expect(bytes).toBeLessThanOrEqual(limit);
          }
        },
      ),
    );
  });
});
