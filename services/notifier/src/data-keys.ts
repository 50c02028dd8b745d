import { subscriptionDataKeyCodec, unwrapDataKey } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { WatchedConsumer, type KafkaClient } from '@consult/kafka';

/**
 * The data keys that open sealed webhook secrets, read from the compacted `subscription.keys` topic and
 * unwrapped with the operator's key. Every notifier process reads the whole topic (a throw-away group), then
 * follows it: a key is produced before the subscription event that uses it, so it is here by the time a
 * delivery needs it; a tombstone (subscription deleted) removes it from memory at once.
 */
export class DataKeyStore {
  private readonly keys = new Map<string, Buffer>();
  /** Every process reads the whole topic (a group of its own, no commits); a replaced consumer reads it again. */
  private readonly follower: WatchedConsumer;

  constructor(options: { kafka: KafkaClient; logger: Logger; topic: string; operatorKey: Buffer }) {
    this.follower = new WatchedConsumer({
      kafka: options.kafka,
      logger: options.logger,
      topic: options.topic,
      ownGroupPrefix: `${options.topic}.notifier`,
      autoCommit: false,
      onBatch: ({ messages }) => messages.forEach((message) => {
        const ref = message.key?.toString('utf8');
        if (!ref) return;
        if (message.value === null) {
          this.keys.delete(ref);
          return;
        }
        try {
          const record = subscriptionDataKeyCodec.decode(message.value);
          this.keys.set(record.keyRef, unwrapDataKey(options.operatorKey, record));
        } catch (error) {
          // A wrong WEBHOOK_SECRETS_KEY lands here: say so without the key material.
          options.logger.error({ keyRef: ref, reason: error instanceof Error ? error.message : String(error) }, 'cannot open a webhook data key');
        }
      }),
    });
  }

  async start(): Promise<void> {
    await this.follower.start();
  }

  /** The data key, waiting a little for one just produced; null if it does not come (destroyed or never made). */
  async get(keyRef: string, waitMs = 5_000): Promise<Buffer | null> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const key = this.keys.get(keyRef);
      if (key) return key;
      if (Date.now() >= deadline) return null;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    await this.follower.stop();
  }
}
