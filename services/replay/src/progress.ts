/** Where progress goes: a terminal line on stderr that rewrites itself, or nothing. */
export interface ProgressSink {
  add(events: number): void;
  done(): void;
}

export const silentProgress: ProgressSink = { add: () => undefined, done: () => undefined };

/**
 * A progress line on stderr: events read and events per second, redrawn at most every `intervalMs`. On a
 * terminal it rewrites one line; in a pipe it prints a line per interval so logs stay readable.
 */
export class ProgressBar implements ProgressSink {
  private events = 0;
  private readonly started = Date.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    private readonly intervalMs = process.stderr.isTTY ? 200 : 2_000,
  ) {}

  add(events: number): void {
    this.events += events;
    const now = Date.now();
    if (now - this.lastDraw >= this.intervalMs) {
      this.lastDraw = now;
      this.draw(false);
    }
  }

  done(): void {
    this.draw(true);
  }

  private draw(final: boolean): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = Math.round(this.events / seconds);
    const line = `${this.label}: ${this.events.toLocaleString('en')} events read, ${rate.toLocaleString('en')} events/s, ${seconds.toFixed(1)} s`;
    if (this.stream.isTTY) this.stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else this.stream.write(`${line}\n`);
  }
}
