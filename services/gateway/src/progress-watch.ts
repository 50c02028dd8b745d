/**
 * Whether a consumer is making progress, from successive looks at its committed positions: a consumer with
 * work waiting (lag > 0) whose positions have not moved for `stallMs` is stuck, whatever its group says. A
 * writer killed with SIGKILL stays a "live" member of a Stable group until its session times out, and meanwhile
 * nothing it owns is decided: readiness must say so at once, not after the session timeout.
 */
export class ProgressWatch {
  private readonly last = new Map<string, { positions: string; since: number; lag: number }>();

  constructor(private readonly stallMs = 2_000) {}

  /** Records a look; returns for how long the consumer has been stalled (0 when it progresses or has no work). */
  observe(name: string, positions: string, lag: number, now: number): number {
    const previous = this.last.get(name);
    // Stalled time counts from the first look that saw work waiting at these positions.
    if (!previous || previous.positions !== positions || lag === 0 || previous.lag === 0) {
      this.last.set(name, { positions, since: now, lag });
      return 0;
    }
    const stalled = now - previous.since;
    return stalled >= this.stallMs ? stalled : 0;
  }
}
