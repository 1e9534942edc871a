import { stringify, Stringifier } from 'csv-stringify';

/** Cells a spreadsheet would run as a formula (= + - @, and TAB or CR that some strip first). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A text cell made safe to open in a spreadsheet: a leading single quote before a formula start. */
export function neutralizeFormula(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/**
 * The CSV writer of the Registrar API's files: a header row, `True`/`False` for booleans, empty
 * cells for null, CRLF line ends and no BOM, as upstream writes them; text cells that start like a
 * formula get a leading single quote. Write rows as objects keyed by `columns`.
 */
export function registrarCsv(columns: readonly string[]): Stringifier {
  return stringify({
    header: true,
    columns: [...columns],
    record_delimiter: '\r\n',
    bom: false,
    cast: {
      boolean: (b) => (b ? 'True' : 'False'),
      string: (s) => neutralizeFormula(s),
    },
  });
}
