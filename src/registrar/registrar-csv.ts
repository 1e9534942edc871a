import { csvWriter } from '../common/csv/csv-writer';

/**
 * The CSV writer of the Registrar API's files: a header row, `True`/`False` for booleans, empty
 * cells for null, CRLF line ends and no BOM, as upstream writes them; text cells that start like a
 * formula get a leading single quote (csvWriter). Write rows as objects keyed by `columns`.
 */
export function registrarCsv(columns: readonly string[]): ReturnType<typeof csvWriter> {
  return csvWriter(columns, { booleans: ['True', 'False'], recordDelimiter: '\r\n' });
}
