import { afterEach, describe, expect, it, vi } from 'vitest';
import { followEvents, type LiveEvent, type LiveState } from './live.js';

/** A response whose body streams the given text and then ends, as a dropped connection does. */
function streamed(text: string): Response {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
}

describe('followEvents', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends the key as a bearer token, and after a drop resumes with Last-Event-ID from the last event seen', async () => {
    const requests: Headers[] = [];
    const bodies = [
      'retry: 10\n\nid: 0.4\nevent: consultation.opened\ndata: {"type":"consultation.opened","key":"a","data":{}}\n\n',
      'id: 0.5\nevent: consultation.closed\ndata: {"type":"consultation.closed","key":"a","data":{}}\n\n',
    ];
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      requests.push(new Headers(init.headers));
      const text = bodies.shift();
      return Promise.resolve(text === undefined ? new Response(null, { status: 503 }) : streamed(text));
    });
    const events: LiveEvent[] = [];
    const states: LiveState[] = [];
    const stop = followEvents('key-0000000000000001', (e) => events.push(e), (s) => states.push(s));
    await vi.waitFor(() => expect(events.map((e) => e.type)).toEqual(['consultation.opened', 'consultation.closed']), { timeout: 2_000 });
    stop();
    expect(requests[0]!.get('authorization')).toBe('Bearer key-0000000000000001');
    expect(requests[0]!.get('last-event-id')).toBeNull();
    expect(requests[1]!.get('last-event-id')).toBe('0.4');
    expect(states.slice(0, 4)).toEqual(['connecting', 'live', 'reconnecting', 'live']);
  });

  it('resumes from the position the gateway gave at connection when the drop came before any event', async () => {
    const requests: Headers[] = [];
    const bodies = [
      'retry: 10\nid: 0.7\n: connected at 0.7\n\n',
      'id: 0.8\nevent: consultation.opened\ndata: {"type":"consultation.opened","key":"a","data":{}}\n\n',
    ];
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      requests.push(new Headers(init.headers));
      const text = bodies.shift();
      return Promise.resolve(text === undefined ? new Response(null, { status: 503 }) : streamed(text));
    });
    const events: LiveEvent[] = [];
    const stop = followEvents('key-0000000000000001', (e) => events.push(e), () => undefined);
    await vi.waitFor(() => expect(events.map((e) => e.type)).toEqual(['consultation.opened']), { timeout: 2_000 });
    stop();
    // Without it the stream would restart at the present, and what was published during the drop would be lost.
    expect(requests[1]!.get('last-event-id')).toBe('0.7');
  });
});
