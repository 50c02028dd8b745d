/** Time left until a deadline, split for display; `past` once it is reached. */
export interface Remaining {
  past: boolean;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

export function remaining(deadlineMs: number, nowMs: number): Remaining {
  const left = Math.max(0, Math.ceil((deadlineMs - nowMs) / 1000));
  return {
    past: deadlineMs <= nowMs,
    days: Math.floor(left / 86_400),
    hours: Math.floor((left % 86_400) / 3_600),
    minutes: Math.floor((left % 3_600) / 60),
    seconds: left % 60,
  };
}

/** "2 d 03:04:05", or "03:04:05" under a day: fixed width, so the page does not jump every second. */
export function formatRemaining(r: Remaining, dayUnit: string): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const clock = `${pad(r.hours)}:${pad(r.minutes)}:${pad(r.seconds)}`;
  return r.days > 0 ? `${r.days} ${dayUnit} ${clock}` : clock;
}
