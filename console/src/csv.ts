/** A row of a bulk creation of course accounts. */
export interface AccountRow {
  email: string;
  description?: string;
}

export interface ParsedRows {
  rows: AccountRow[];
  /** 1-based line numbers with what is wrong with them. */
  problems: { line: number; problem: string }[];
}

const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

/** Splits one CSV line (RFC 4180 quotes, comma or semicolon separated). */
export function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      cell = '';
    } else if (c === ',' || c === ';' || c === '\t') {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

/**
 * A pasted list (one e-mail a line) or a CSV file (a header naming `email`, optionally
 * `description`; or no header, e-mail first): the rows, and the lines that are no e-mail.
 * Blank lines are skipped; a repeated e-mail is kept once (the API reports duplicates too).
 */
export function parseAccountRows(text: string): ParsedRows {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const rows: AccountRow[] = [];
  const problems: ParsedRows['problems'] = [];
  const seen = new Set<string>();
  let emailAt = 0;
  let descriptionAt = -1;
  let first = true;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = splitCsvLine(line);
    if (first) {
      first = false;
      const names = cells.map((c) => c.toLowerCase());
      if (names.includes('email') || names.includes('e-mail')) {
        emailAt = Math.max(names.indexOf('email'), names.indexOf('e-mail'));
        descriptionAt = names.indexOf('description');
        return;
      }
      if (cells.length > 1) descriptionAt = 1;
    }
    const email = (cells[emailAt] ?? '').trim();
    if (!EMAIL.test(email)) {
      problems.push({ line: i + 1, problem: email ? `“${email}” is not an e-mail address` : 'no e-mail address' });
      return;
    }
    const key = email.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    const description = descriptionAt >= 0 ? (cells[descriptionAt] ?? '').trim() : '';
    rows.push(description ? { email, description } : { email });
  });
  return { rows, problems };
}
