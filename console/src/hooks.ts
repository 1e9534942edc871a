import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiClient } from './api';

export const ApiContext = createContext<ApiClient | null>(null);

export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('no ApiContext');
  return api;
}

/** Who is signed in (GET /auth/me). */
export interface Me {
  type: string;
  id: string;
  name: string;
  token_kind: string;
  is_staff: boolean;
  is_support: boolean;
  organizations: { id: string; key: string; name: string }[];
  roles: { role: string; scope_type: string; scope_id: string; organization: string }[];
}

export const MeContext = createContext<Me | null>(null);

export function useMe(): Me | null {
  return useContext(MeContext);
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Loads once per change of `deps`, and again on reload(); the last answer wins. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: unknown) => mine === seq.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/**
 * What the caller may do on one object (GET /api/v1/permissions); [] when it may not read it, null
 * while loading. Buttons for actions not listed are not shown.
 */
export function useActions(objectType: string, objectId: string | null | undefined): string[] | null {
  const api = useApi();
  const [actions, setActions] = useState<string[] | null>(null);
  useEffect(() => {
    setActions(null);
    if (!objectId) return;
    let live = true;
    api.get<{ actions: string[] }>('/permissions', { object_type: objectType, object_id: objectId }).then(
      (answer) => live && setActions(answer.actions),
      () => live && setActions([]),
    );
    return () => {
      live = false;
    };
  }, [api, objectType, objectId]);
  return actions;
}

/** Calls `tick` every `ms` while `active`. */
export function useInterval(tick: () => void, ms: number, active: boolean): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

export interface Submission {
  error: unknown;
  busy: boolean;
  /** A form's onSubmit: keeps the page from reloading, runs the action, and keeps its error to show. */
  onSubmit: (e: Event) => Promise<void>;
}

/** A form that sends one request: its error (cleared on each try) and whether it is under way. */
export function useSubmit(action: () => Promise<void>): Submission {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, onSubmit };
}
