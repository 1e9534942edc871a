import { randomBytes } from 'node:crypto';
import type { Response } from 'express';

/**
 * The small HTML pages of the tool's browser endpoints. Each carries a CSP with a fresh nonce (no
 * inline script runs without it, and nothing else is allowed), is never cached, and may be framed
 * only by the registered platforms (the tool runs in an iframe of the platform's page): the sender
 * puts LtiFrameAncestors' sources in `res.locals.ltiFrameAncestors` first (see `withFrameAncestors`),
 * and a page sent without them may be framed by nobody.
 */

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON that is safe inside a <script> element: no `</script>`, no HTML comment openers, no line separators. */
const scriptJson = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

const STYLE = 'body{font-family:system-ui,sans-serif;margin:2rem;color:#222}code{background:#eee;padding:0 .25em}';

function send(res: Response, status: number, title: string, body: string, nonce: string, connectSelf = false): void {
  res.removeHeader('X-Frame-Options');
  res.setHeader(
    'Content-Security-Policy',
    [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      connectSelf ? "connect-src 'self'" : null,
      "form-action 'self'",
      "base-uri 'none'",
      `frame-ancestors ${frameAncestorsOf(res)}`,
    ]
      .filter(Boolean)
      .join('; '),
  );
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
  res
    .status(status)
    .type('html')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
        `<style nonce="${nonce}">${STYLE}</style></head><body>${body}</body></html>`,
    );
}

/** The `frame-ancestors` sources a page is sent with: what the sender set, else `'none'`. */
function frameAncestorsOf(res: Response): string {
  const sources: unknown = res.locals?.ltiFrameAncestors;
  return typeof sources === 'string' && sources ? sources : "'none'";
}

/** Sets the `frame-ancestors` sources of the pages sent on `res` (e.g. LtiFrameAncestors.sources()). */
export function withFrameAncestors(res: Response, sources: string): Response {
  res.locals.ltiFrameAncestors = sources;
  return res;
}

const newNonce = () => randomBytes(16).toString('base64');

/** A refused login or launch: the reason code, what it means, and the request id for support. */
export function sendErrorPage(
  res: Response,
  status: number,
  reason: string,
  message: string,
  requestId?: string,
): void {
  const nonce = newNonce();
  send(
    res,
    status,
    'LTI launch refused',
    `<main data-lti-reason="${escapeHtml(reason)}"><h1>This launch was refused</h1>` +
      `<p>${escapeHtml(message)}</p><p>Reason: <code>${escapeHtml(reason)}</code>` +
      (requestId ? ` · request <code>${escapeHtml(requestId)}</code>` : '') +
      `</p><p>Open the link in your course again; if it keeps failing, send this page to your LMS administrator.</p></main>`,
    nonce,
  );
}

/**
 * The IMS "LTI Client Side postMessages" exchange, run in the tool's frame: messages go to the
 * platform's storage frame (`lti_storage_target` in the platform window, or the platform window
 * itself) with the platform's origin as target, and only answers from that origin with the same
 * message_id count.
 */
const POST_MESSAGE_CLIENT = `
var cfg = JSON.parse(document.getElementById('lti-config').textContent);
function platformFrame() {
  var w = window.opener || window.parent;
  if (cfg.target && cfg.target !== '_parent') { try { if (w.frames[cfg.target]) return w.frames[cfg.target]; } catch (e) {} }
  return w;
}
function ltiMessage(message) {
  return new Promise(function (resolve, reject) {
    var bytes = new Uint8Array(12); crypto.getRandomValues(bytes);
    message.message_id = 'ca-' + Array.prototype.map.call(bytes, function (b) { return b.toString(16); }).join('');
    var timer = setTimeout(function () { window.removeEventListener('message', onMessage); reject(new Error('timeout')); }, 2000);
    function onMessage(event) {
      if (event.origin !== cfg.origin || !event.data || event.data.message_id !== message.message_id) return;
      if (event.data.subject !== message.subject + '.response') return;
      window.removeEventListener('message', onMessage); clearTimeout(timer);
      if (event.data.error) reject(event.data.error); else resolve(event.data);
    }
    window.addEventListener('message', onMessage);
    try { platformFrame().postMessage(message, cfg.origin); } catch (e) { clearTimeout(timer); reject(e); }
  });
}`;

/**
 * The login's answer when the platform offers postMessage storage: stores the login's browser secret
 * in the platform frame (`lti.put_data`), then goes on to the platform's authorization endpoint
 * (also when storing fails: the state cookie may still be there).
 */
export function sendLoginStoragePage(
  res: Response,
  page: { authUrl: string; platformOrigin: string; target: string; key: string; value: string },
): void {
  const nonce = newNonce();
  const config = {
    origin: page.platformOrigin,
    target: page.target,
    key: page.key,
    value: page.value,
    next: page.authUrl,
  };
  send(
    res,
    200,
    'Signing in…',
    `<p>Signing in…</p><script type="application/json" id="lti-config">${scriptJson(config)}</script>` +
      `<script nonce="${nonce}">${POST_MESSAGE_CLIENT}
ltiMessage({ subject: 'lti.put_data', key: cfg.key, value: cfg.value })
  .catch(function () {})
  .then(function () { window.location.replace(cfg.next); });
</script>`,
    nonce,
  );
}

/**
 * The launch's answer when the state cookie did not come back (third-party cookies blocked): reads
 * the login's browser secret back from the platform frame (`lti.get_data`) and posts the launch
 * again, from this page, with that value. The tool then checks it against the login's record, and
 * that the post came from its own page.
 */
export function sendLaunchStoragePage(
  res: Response,
  page: { launchUrl: string; platformOrigin: string; target: string; key: string; fields: Record<string, string> },
): void {
  const nonce = newNonce();
  const inputs = Object.entries(page.fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const config = { origin: page.platformOrigin, target: page.target, key: page.key };
  send(
    res,
    200,
    'Signing in…',
    `<p>Signing in…</p><form id="lti-launch" method="post" action="${escapeHtml(page.launchUrl)}">${inputs}` +
      `<input type="hidden" name="lti_storage_value" value=""></form>` +
      `<script type="application/json" id="lti-config">${scriptJson(config)}</script>` +
      `<script nonce="${nonce}">${POST_MESSAGE_CLIENT}
var form = document.getElementById('lti-launch');
ltiMessage({ subject: 'lti.get_data', key: cfg.key })
  .then(function (answer) { if (typeof answer.value === 'string') form.elements.lti_storage_value.value = answer.value; })
  .catch(function () {})
  .then(function () { form.submit(); });
</script>`,
    nonce,
  );
}

/**
 * The default target link page (`/lti/app`): exchanges the launch id for a session and says who is
 * signed in where. A real front end replaces it by registering its own target link URI under
 * PUBLIC_URL and doing the same exchange.
 */
export function sendAppPage(res: Response, exchangePath: string): void {
  const nonce = newNonce();
  send(
    res,
    200,
    'Campus Access',
    `<main><h1>Campus Access</h1><p id="status">Signing in…</p></main>` +
      `<script type="application/json" id="lti-config">${scriptJson({ exchangePath })}</script>` +
      `<script nonce="${nonce}">
// In a function: a global \`var status\` would be window.status, which turns the element into a string.
(function () {
var cfg = JSON.parse(document.getElementById('lti-config').textContent);
var status = document.getElementById('status');
var launchId = new URLSearchParams(window.location.search).get('launch_id');
if (!launchId) { status.textContent = 'No launch to sign in with: open the link from your course.'; }
else {
  fetch(cfg.exchangePath.replace('{launch_id}', encodeURIComponent(launchId)), { method: 'POST' })
    .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
    .then(function (answer) {
      if (!answer.ok) { status.textContent = 'Sign-in failed: ' + (answer.body.error || 'error'); status.dataset.state = 'failed'; return; }
      var b = answer.body;
      status.textContent = 'Signed in as ' + b.user.username + (b.project ? ' in ' + b.project.name + ' (' + b.role + ')' : '') +
        (b.course_account ? '; course account ' + b.course_account.state : '') + '.';
      status.dataset.state = 'signed-in';
      window.campusAccessSession = b;
    })
    .catch(function () { status.textContent = 'Sign-in failed.'; status.dataset.state = 'failed'; });
}
})();
</script>`,
    nonce,
    true,
  );
}
