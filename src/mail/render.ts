import Mustache from 'mustache';
import type { TemplateSet } from './default-templates';

/** What a template may use; every value is plain text. */
export type MailVariables = Record<string, string | number>;

/**
 * Renders a template set with mustache (logic-less: no code runs from a template). The HTML body
 * escapes every variable (`{{x}}`; triple braces are refused so no variable goes in raw); the
 * subject and the plain body are text, so nothing is escaped there, but line breaks are taken out
 * of the subject (no header injection).
 */
export function renderMail(t: TemplateSet, vars: MailVariables): TemplateSet {
  const plain = (template: string) => Mustache.render(template, vars, {}, { escape: (v: unknown) => String(v) });
  return {
    subject: plain(t.subject)
      .replace(/[\r\n]+/g, ' ')
      .trim(),
    text: plain(t.text),
    html: Mustache.render(t.html, vars),
  };
}

/** Why a template cannot be used (a syntax error, an unescaped variable in HTML), or null. */
export function templateProblem(t: TemplateSet): string | null {
  try {
    for (const part of [t.subject, t.text, t.html]) Mustache.parse(part);
  } catch (e) {
    return (e as Error).message;
  }
  const raw = findRaw(Mustache.parse(t.html));
  if (raw) return `the HTML body must escape every variable: {{${String(raw[1])}}} instead of {{{${String(raw[1])}}}}`;
  return null;
}

type Token = [string, string, number, number, Token[]?, ...unknown[]];

function findRaw(tokens: unknown[]): Token | undefined {
  for (const token of tokens as Token[]) {
    if (token[0] === '&' || token[0] === '{') return token;
    if (Array.isArray(token[4])) {
      const inner = findRaw(token[4]);
      if (inner) return inner;
    }
  }
  return undefined;
}
