import { ApiClient } from '../src/api';

export interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  credentials: RequestCredentials | undefined;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
type Handler = (call: Call) => Answer | undefined;

/** An ApiClient over a fake fetch: answers by handler, records every call. */
export function fakeApi(handler: Handler): { api: ApiClient; calls: Call[] } {
  const calls: Call[] = [];
  const fetchImpl = async (input: string, init: RequestInit = {}) => {
    const call: Call = {
      method: init.method ?? 'GET',
      url: input,
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      credentials: init.credentials,
    };
    calls.push(call);
    const answer = handler(call) ?? { status: 404, body: { error: 'not_found', message: 'No such route.' } };
    return new Response(answer.status === 204 ? null : JSON.stringify(answer.body ?? {}), {
      status: answer.status,
      headers: { 'Content-Type': 'application/json', ...answer.headers },
    });
  };
  return { api: new ApiClient('', fetchImpl), calls };
}

export const path = (call: Call) => new URL(call.url, 'http://console.test').pathname;
