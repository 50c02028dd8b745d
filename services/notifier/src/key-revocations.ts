import { identityEventCodec } from '@consult/contracts';
import type { Logger } from '@consult/config';
import type { Kafka } from '@consult/kafka';
import { TopicFollower } from './topic-follower.js';

/**
 * Which API keys no longer work (revoked, or past their expiry), followed from `identity.events`: a
 * subscription made with such a key gets no more deliveries.
 */
export class KeyRevocations {
  private readonly revoked = new Set<string>();
  private readonly expiries = new Map<string, number>();
  private readonly follower: TopicFollower;

  constructor(options: { kafka: Kafka; logger: Logger; topic: string }) {
    this.follower = new TopicFollower(options.kafka, options.topic, (message) => {
      try {
        const event = identityEventCodec.decode(message.value);
        if (event.type === 'identity.api-key-revoked') this.revoked.add(event.data.keyId);
        else if (event.type === 'identity.api-key-expiry-set') this.expiries.set(event.data.keyId, Date.parse(event.data.expiresAt));
        else if (event.data.expiresAt) this.expiries.set(event.data.keyId, Date.parse(event.data.expiresAt));
      } catch (error) {
        options.logger.error({ err: error, offset: message.offset }, 'skipping a malformed identity event');
      }
    });
  }

  /** Whether deliveries for what this key created must stop now. */
  stopped(keyId: string | undefined, now = Date.now()): boolean {
    if (keyId === undefined) return false;
    if (this.revoked.has(keyId)) return true;
    const expiry = this.expiries.get(keyId);
    return expiry !== undefined && expiry <= now;
  }

  async start(): Promise<void> {
    await this.follower.start();
  }

  async stop(): Promise<void> {
    await this.follower.stop();
  }
}
