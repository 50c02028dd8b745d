import { identityEventCodec } from '@consult/contracts';
import type { Logger } from '@consult/config';
import { WatchedConsumer, type KafkaClient } from '@consult/kafka';

/**
 * Which API keys were revoked, followed from `identity.events`: a subscription made with such a key gets no more
 * deliveries.
 *
 * An expiry does not stop deliveries. A subscription belongs to its principal, not to the key it was made with,
 * and keys expire in the ordinary course of a rotation (`admin keys rotate` sets the old key's expiry after the
 * overlap): every webhook a member state made with its old key must keep working with the new one. Revocation
 * is the act that says a key — and what was done with it — can no longer be trusted.
 */
export class KeyRevocations {
  private readonly revoked = new Set<string>();
  /** Every process reads the whole topic (a group of its own, no commits); a replaced consumer reads it again. */
  private readonly follower: WatchedConsumer;

  constructor(options: { kafka: KafkaClient; logger: Logger; topic: string }) {
    this.follower = new WatchedConsumer({
      kafka: options.kafka,
      logger: options.logger,
      topic: options.topic,
      ownGroupPrefix: `${options.topic}.notifier`,
      autoCommit: false,
      onBatch: ({ messages }) => messages.forEach((message) => {
        try {
          const event = identityEventCodec.decode(message.value);
          if (event.type === 'identity.api-key-revoked') this.revoked.add(event.data.keyId);
        } catch (error) {
          options.logger.error({ err: error, offset: message.offset }, 'skipping a malformed identity event');
        }
      }),
    });
  }

  /** Whether deliveries for what this key created must stop now: only once the key is revoked. */
  stopped(keyId: string | undefined): boolean {
    return keyId !== undefined && this.revoked.has(keyId);
  }

  async start(): Promise<void> {
    await this.follower.start();
  }

  async stop(): Promise<void> {
    await this.follower.stop();
  }
}
