/**
 * Retries an operation while it fails with an error that says retrying helps (`retriable`, as kafkajs and our
 * errors mark them), e.g. reading a topic whose partitions have just been created and have no leader yet.
 */
export async function withRetries<T>(operation: () => Promise<T>, attempts = 10, delayMs = 300): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const retriable = (error as { retriable?: unknown } | null)?.retriable === true;
      if (!retriable || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, delayMs * attempt));
    }
  }
}
