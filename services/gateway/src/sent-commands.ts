import type { KeySpace, RedisClient as Redis } from '@consult/redis';

/** Kept as long as the outcome (and the commands topic's retention): a week. */
const SENT_TTL_SECONDS = 7 * 86_400;

export interface Sender {
  kind: string;
  id: string;
}

/**
 * Which command ids a gateway has sent, and for whom, so that `GET /v1/commands/{id}` tells "pending" from "no
 * such command" and never shows one principal's command to another. Written before the command is produced,
 * with the outcome's lifetime: a decided command whose outcome has expired is a 404, never "pending" again.
 * After a Redis flush, a command still undecided reads as a 404 until its outcome is projected (seconds).
 */
export class SentCommands {
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeySpace,
  ) {}

  async remember(commandId: string, sender: Sender): Promise<void> {
    await this.redis.set(this.keys.key('command-sent', commandId), JSON.stringify({ kind: sender.kind, id: sender.id }), 'EX', SENT_TTL_SECONDS);
  }

  async senderOf(commandId: string): Promise<Sender | null> {
    const raw = await this.redis.get(this.keys.key('command-sent', commandId));
    return raw ? (JSON.parse(raw) as Sender) : null;
  }
}
