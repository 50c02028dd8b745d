import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Api, Principal } from './api.js';
import type { Language, Strings } from './i18n.js';
import type { LiveEvent } from './live.js';

export interface Session {
  api: Api;
  principal: Principal;
  lang: Language;
  t: Strings;
  /** Subscribe to live events; returns the unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
  announce(message: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in session');
  return session;
}

const LOCALES: Record<Language, string> = { en: 'en-GB', ru: 'ru-RU', kk: 'kk-KZ' };

/** A date and time in the viewer's own time zone, with the zone named. */
export function formatDateTime(iso: string, lang: Language): string {
  return new Intl.DateTimeFormat(LOCALES[lang], { dateStyle: 'medium', timeStyle: 'long' }).format(new Date(iso));
}

export function formatNumber(n: number, lang: Language, digits = 1): string {
  return new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: digits }).format(n);
}

/** The current time, re-rendering every `everyMs`. */
export function useNow(everyMs = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

const COALESCE_MS = 150;
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 30_000;

/** `stale` is set when a reload failed: the value is the last one that loaded, and a retry is on its way. */
export type Loaded<T> = { state: 'loading' } | { state: 'error'; message: string } | { state: 'ready'; value: T; stale?: boolean };

/**
 * Loads with `load`, and again when a live event passes `relevant` (or every `pollMs`, for what the live stream
 * does not carry). A reload keeps showing the previous value until the new one arrives; a reload that fails
 * (the network dropped, the gateway restarted) keeps it too, marked stale, and tries again, 2 s and then up to
 * 30 s apart, until one loads: an officer's view never turns into an error page because of a blip.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], relevant?: (event: LiveEvent) => boolean, pollMs?: number): [Loaded<T>, () => void] {
  const session = useSession();
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const [generation, setGeneration] = useState(0);
  const failures = useRef(0);
  useEffect(() => {
    // A later load (an event, another id, a retry) or unmounting supersedes this one.
    let superseded = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    load().then(
      (value) => {
        if (superseded) return;
        failures.current = 0;
        setResult({ state: 'ready', value });
      },
      (error: unknown) => {
        if (superseded) return;
        const message = error instanceof Error ? error.message : String(error);
        setResult((previous) => (previous.state === 'ready' ? { state: 'ready', value: previous.value, stale: true } : { state: 'error', message }));
        const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** failures.current);
        failures.current += 1;
        retry = setTimeout(() => setGeneration((g) => g + 1), delay);
      },
    );
    return () => {
      superseded = true;
      clearTimeout(retry);
    };
  }, [...deps, generation]);
  useEffect(() => {
    failures.current = 0;
  }, deps);
  useEffect(() => {
    if (!relevant) return undefined;
    // A burst of events becomes one reload shortly after its first event.
    let pending: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = session.subscribe((event) => {
      if (!relevant(event) || pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        setGeneration((g) => g + 1);
      }, COALESCE_MS);
    });
    return () => {
      clearTimeout(pending);
      unsubscribe();
    };
  }, deps);
  useEffect(() => {
    if (!pollMs) return undefined;
    const timer = setInterval(() => setGeneration((g) => g + 1), pollMs);
    return () => clearInterval(timer);
  }, [pollMs]);
  return [result, () => setGeneration((g) => g + 1)];
}

/** A duration for people, in the viewer's language: "45 s", "12.5 min", "3.2 h", "4.1 d"; null → "—". */
export function formatDuration(seconds: number | null, lang: Language, units: Strings['units']): string {
  if (seconds === null) return '—';
  if (seconds < 120) return `${formatNumber(Math.round(seconds), lang)} ${units.s}`;
  if (seconds < 7_200) return `${formatNumber(seconds / 60, lang)} ${units.min}`;
  if (seconds < 172_800) return `${formatNumber(seconds / 3_600, lang)} ${units.h}`;
  return `${formatNumber(seconds / 86_400, lang)} ${units.d}`;
}
