import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

/**
 * Small HTML pages of the LTI Advantage browser steps (content picker, deep-linking answer,
 * registration done). Each has a CSP with a fresh nonce, is never cached, may be framed by any LMS,
 * and may post forms only to ourselves and to the one platform URL it names.
 */
export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function sendToolPage(
  res: Response,
  status: number,
  title: string,
  body: (nonce: string) => string,
  formTarget?: string,
): void {
  const nonce = randomBytes(16).toString('base64');
  const formAction = ["'self'", formTarget ? new URL(formTarget).origin : null].filter(Boolean).join(' ');
  res.removeHeader('X-Frame-Options');
  res.setHeader(
    'Content-Security-Policy',
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; form-action ${formAction}; base-uri 'none'; frame-ancestors *`,
  );
  res.setHeader('Cache-Control', 'no-store');
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<style nonce="${nonce}">body{font-family:system-ui,sans-serif;margin:2rem;color:#222}li{margin:.3rem 0}</style>` +
        `</head><body>${body(nonce)}</body></html>`,
    );
}

/** A page that posts hidden fields to a URL at once (with a button when scripts are off). */
export function sendAutoPost(res: Response, action: string, fields: Record<string, string>, title: string): void {
  sendToolPage(
    res,
    200,
    title,
    (nonce) =>
      `<form id="post" method="post" action="${escapeHtml(action)}">` +
      Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
        .join('') +
      `<noscript><button type="submit">Continue</button></noscript></form>` +
      `<script nonce="${nonce}">document.getElementById('post').submit()</script>`,
    action,
  );
}
