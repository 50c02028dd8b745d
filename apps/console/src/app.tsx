import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, type Principal } from './api.js';
import { SessionContext, type Session } from './context.js';
import { LANGUAGES, preferredLanguage, STRINGS, type Language, type Strings } from './i18n.js';
import { followEvents, type LiveEvent, type LiveState } from './live.js';
import { ConsultationView } from './views/consultation.js';
import { ConsultationsView } from './views/consultations.js';
import { MineView } from './views/mine.js';
import { ReportsView } from './views/reports.js';
import { StatementsView } from './views/statements.js';

const KEY_STORAGE = 'consult.apiKey';
const LANG_STORAGE = 'consult.lang';

function useHashRoute(): string {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const onChange = (): void => setHash(location.hash || '#/');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash;
}

export function App() {
  const [lang, setLang] = useState<Language>(preferredLanguage(localStorage.getItem(LANG_STORAGE), navigator.languages));
  const t = STRINGS[lang];
  // The API key lives in sessionStorage only: gone when the tab closes, never sent anywhere but the API.
  const [key, setKey] = useState<string | null>(sessionStorage.getItem(KEY_STORAGE));
  const [principal, setPrincipal] = useState<Principal | null>(null);
  const [signInError, setSignInError] = useState('');

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = t.appTitle;
    localStorage.setItem(LANG_STORAGE, lang);
  }, [lang, t]);

  useEffect(() => {
    if (!key) return;
    new Api(key).me().then(setPrincipal, (error: unknown) => {
      sessionStorage.removeItem(KEY_STORAGE);
      setKey(null);
      setSignInError(error instanceof ApiError && error.status === 401 ? STRINGS[lang].badKey : String(error));
    });
  }, [key]);

  const signIn = (candidate: string): void => {
    sessionStorage.setItem(KEY_STORAGE, candidate);
    setSignInError('');
    setKey(candidate);
  };
  const signOut = (): void => {
    sessionStorage.removeItem(KEY_STORAGE);
    setKey(null);
    setPrincipal(null);
    location.hash = '#/';
  };

  const languagePicker = (
    <div class="language">
      <label for="language">{t.language}</label>
      <select id="language" value={lang} onChange={(e) => setLang(e.currentTarget.value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l.code} value={l.code} lang={l.code}>
            {l.name}
          </option>
        ))}
      </select>
    </div>
  );

  if (!key || !principal)
    return (
      <>
        <header class="top">
          <span class="brand">{t.appTitle}</span>
          {languagePicker}
        </header>
        <main id="main" class="signin">
          {key && !signInError ? <p aria-busy="true">{t.loading}</p> : <SignIn t={t} error={signInError} onSignIn={signIn} />}
        </main>
      </>
    );
  return <SignedIn key={key} apiKey={key} principal={principal} lang={lang} t={t} languagePicker={languagePicker} onSignOut={signOut} />;
}

function SignIn({ t, error, onSignIn }: { t: Strings; error: string; onSignIn: (key: string) => void }) {
  const [value, setValue] = useState('');
  return (
    <form
      class="card signin-form"
      aria-labelledby="signin-title"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) onSignIn(value.trim());
      }}
    >
      <h1 id="signin-title">{t.signInTitle}</h1>
      <p id="signin-help">{t.signInHelp}</p>
      <label for="api-key">{t.apiKey}</label>
      <input id="api-key" type="password" autocomplete="off" spellcheck={false} required aria-describedby="signin-help" value={value} onInput={(e) => setValue(e.currentTarget.value)} />
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <button type="submit">{t.signIn}</button>
    </form>
  );
}

interface SignedInProps {
  apiKey: string;
  principal: Principal;
  lang: Language;
  t: Strings;
  languagePicker: preact.JSX.Element;
  onSignOut: () => void;
}

function SignedIn({ apiKey, principal, lang, t, languagePicker, onSignOut }: SignedInProps) {
  const hash = useHashRoute();
  const [live, setLive] = useState<LiveState>('connecting');
  const [announcement, setAnnouncement] = useState('');
  const listeners = useRef(new Set<(event: LiveEvent) => void>());
  const api = useMemo(() => new Api(apiKey), [apiKey]);

  useEffect(() => followEvents(apiKey, (event) => listeners.current.forEach((l) => l(event)), setLive), [apiKey]);

  const subscribe = useCallback((listener: (event: LiveEvent) => void) => {
    listeners.current.add(listener);
    return () => listeners.current.delete(listener);
  }, []);
  const session: Session = useMemo(
    () => ({ api, principal, lang, t, subscribe, announce: setAnnouncement }),
    [api, principal, lang, t, subscribe],
  );

  const nav = navigationFor(principal, t);
  const fallback = nav[0]?.href ?? '#/consultations';
  let route = hash.replace(/^#/, '') || '/';
  let view = viewFor(route, principal);
  if (!view) {
    // An unknown or empty route shows the principal's first view (and says so in the address bar).
    route = fallback.replace(/^#/, '');
    view = viewFor(route, principal);
  }
  useEffect(() => {
    if (`#${route}` !== location.hash) history.replaceState(null, '', `#${route}`);
  }, [route]);

  // Move focus to the new view's heading on navigation, so keyboard and screen-reader users land on it.
  const main = useRef<HTMLElement>(null);
  useEffect(() => {
    const heading = main.current?.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }, [route]);

  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        {t.skip}
      </a>
      <header class="top">
        <span class="brand">{t.appTitle}</span>
        <nav aria-label={t.appTitle}>
          <ul>
            {nav.map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={`#${route}`.startsWith(item.href) ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class={`live live-${live}`} data-live={live}>
          <span aria-hidden="true">● </span>
          {live === 'live' ? t.live : t.reconnecting}
        </span>
        {languagePicker}
        <span class="who">
          {t.signedInAs} <strong>{principal.name ?? principal.id}</strong> ({principal.kind})
        </span>
        <button type="button" class="secondary" onClick={onSignOut}>
          {t.signOut}
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {view}
      </main>
      <div class="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </SessionContext.Provider>
  );
}

function viewFor(route: string, principal: Principal): preact.JSX.Element | null {
  const detail = /^\/consultations\/([0-9a-f-]{36})$/.exec(route);
  if (detail?.[1]) return <ConsultationView id={detail[1]} />;
  if (route === '/consultations') return <ConsultationsView />;
  if (route === '/statements' && principal.kind === 'secretariat') return <StatementsView />;
  if (route === '/mine' && principal.kind === 'member-state') return <MineView />;
  if (route === '/reports' && (principal.kind === 'secretariat' || principal.kind === 'auditor')) return <ReportsView />;
  return null;
}

function navigationFor(principal: Principal, t: Strings): { href: string; label: string }[] {
  switch (principal.kind) {
    case 'secretariat':
      return [
        { href: '#/consultations', label: t.navConsultations },
        { href: '#/statements', label: t.navStatements },
        { href: '#/reports', label: t.navReports },
      ];
    case 'auditor':
      return [
        { href: '#/consultations', label: t.navConsultations },
        { href: '#/reports', label: t.navReports },
      ];
    case 'member-state':
      return [
        { href: '#/mine', label: t.navMine },
        { href: '#/consultations', label: t.navConsultations },
      ];
    default:
      return [{ href: '#/consultations', label: t.navConsultations }];
  }
}
