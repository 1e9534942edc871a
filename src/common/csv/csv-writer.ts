import { stringify, type Stringifier } from 'csv-stringify';

/**
 * First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection): `=`,
 * `+`, `-`, `@`, and a leading tab or carriage return that some applications skip before looking.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A text cell as it is safe to open in a spreadsheet: one starting like a formula gets a single
 * quote in front (`=1+1` → `'=1+1`), which spreadsheets show as text; anything else is unchanged.
 */
export function neutralizeFormula(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** What differs between the CSV dialects the application writes. */
export interface CsvDialect {
  /** How booleans are written: `[true, false]`; default `['true', 'false']`. */
  booleans?: readonly [string, string];
  /** Line end; default `\n`. */
  recordDelimiter?: string;
}

/**
 * The one CSV writer: every CSV the application writes (exports, reports) goes through it. A
 * csv-stringify stream (RFC 4180 quoting, a header row of `columns`) whose text cells are passed
 * through neutralizeFormula(), so values users control (names from an identity provider or an LMS)
 * cannot run as formulas. Booleans are `true`/`false`, dates ISO 8601; numbers are written as they
 * are (a negative number is a number, not a formula). `dialect` sets the booleans and line ends
 * (the Registrar API's files: `True`/`False`, CRLF).
 */
export function csvWriter(columns: readonly string[], dialect: CsvDialect = {}): Stringifier {
  const [yes, no] = dialect.booleans ?? ['true', 'false'];
  return stringify({
    header: true,
    columns: columns.map(neutralizeFormula),
    ...(dialect.recordDelimiter ? { record_delimiter: dialect.recordDelimiter } : {}),
    bom: false,
    cast: {
      string: neutralizeFormula,
      boolean: (b) => (b ? yes : no),
      date: (d) => d.toISOString(),
    },
  });
}
