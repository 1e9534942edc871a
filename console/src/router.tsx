import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** The console's routes are paths under `${base}/console`, kept in the History API (no hash, no token). */
let prefix = '/console';
const listeners = new Set<() => void>();

export function setRouterBase(base: string): void {
  prefix = `${base}/console`;
}

/** The console path of the current location: `/organizations/…`, `/` for the console's root. */
export function currentPath(): string {
  const p = window.location.pathname;
  const rest = p.startsWith(prefix) ? p.slice(prefix.length) : p;
  return rest === '' ? '/' : rest;
}

export function href(path: string): string {
  return `${prefix}${path === '/' ? '/' : path}`;
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  const url = href(path);
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const listener of [...listeners]) listener();
}

/** Re-renders on navigation; answers the path and its query. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((n) => n + 1);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  const pathOnly = currentPath();
  return { path: pathOnly, query: new URLSearchParams(window.location.search) };
}

/** `/projects/:id/course-accounts` against a path: its parameters, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(':')) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

export function Link(
  props: { to: string; children: ComponentChildren } & Omit<JSX.HTMLAttributes<HTMLAnchorElement>, 'href'>,
) {
  const { to, children, ...rest } = props;
  return (
    <a
      {...rest}
      href={href(to)}
      onClick={(e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
