import { SseParser } from './sse.js';

export interface LiveEvent {
  type: string;
  key: string;
  data: Record<string, unknown>;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting';

/**
 * Follows `GET /v1/events`. EventSource cannot send an Authorization header, so this reads the stream with
 * fetch; after a drop it reconnects (after the server's `retry:` delay, growing up to 30 s while it fails) and
 * sends `Last-Event-ID` (the last `id:` the stream gave, which the gateway sends on connecting as well), so
 * nothing published in between is missed. Returns a function that stops it.
 */
export function followEvents(key: string, onEvent: (event: LiveEvent) => void, onState: (state: LiveState) => void): () => void {
  const abort = new AbortController();
  let lastEventId: string | undefined;
  let failures = 0;

  const run = async (): Promise<void> => {
    while (!abort.signal.aborted) {
      const parser = new SseParser();
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${key}`, accept: 'text/event-stream' };
        if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
        const response = await fetch('/v1/events', { headers, signal: abort.signal, cache: 'no-store' });
        if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
        onState('live');
        failures = 0;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(value)) {
            try {
              onEvent(JSON.parse(message.data) as LiveEvent);
            } catch {
              // A message that is not an event (none are expected) must not stop the stream.
            }
          }
          // The last id the stream gave, with or without an event: the gateway gives its position at connection
          // too, so a drop before the first event still resumes from there.
          lastEventId = parser.lastEventId ?? lastEventId;
        }
      } catch {
        if (abort.signal.aborted) return;
        failures += 1;
      }
      if (abort.signal.aborted) return;
      onState('reconnecting');
      const delay = Math.min(30_000, (parser.retryMs ?? 2_000) * 2 ** Math.max(0, failures - 1));
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  onState('connecting');
  void run();
  return () => abort.abort();
}
