import { describe, expect, it } from 'vitest';
import { parseAccountRows, splitCsvLine } from '../src/csv';

describe('parseAccountRows', () => {
  it('reads a pasted list, one e-mail a line, skipping blank lines and repeats', () => {
    expect(parseAccountRows('a@example.edu\n\nB@example.edu\r\nb@example.edu\n')).toEqual({
      rows: [{ email: 'a@example.edu' }, { email: 'B@example.edu' }],
      problems: [],
    });
  });

  it('reads a CSV file with a header in any column order, and quoted cells', () => {
    const csv = '\uFEFFdescription,email\n"Lab, group 1",ada@example.edu\nplain,grace@example.edu\n';
    expect(parseAccountRows(csv).rows).toEqual([
      { email: 'ada@example.edu', description: 'Lab, group 1' },
      { email: 'grace@example.edu', description: 'plain' },
    ]);
  });

  it('reads a CSV without header: e-mail first, description second', () => {
    expect(parseAccountRows('ada@example.edu;Team A').rows).toEqual([
      { email: 'ada@example.edu', description: 'Team A' },
    ]);
  });

  it('names the lines that hold no e-mail address', () => {
    const parsed = parseAccountRows('ada@example.edu\nnot-an-email\n,\n');
    expect(parsed.rows).toHaveLength(1);
    expect(parsed.problems).toEqual([
      { line: 2, problem: '“not-an-email” is not an e-mail address' },
      { line: 3, problem: 'no e-mail address' },
    ]);
  });

  it('splits quoted cells with doubled quotes', () => {
    expect(splitCsvLine('"say ""hi""",x')).toEqual(['say "hi"', 'x']);
  });
});
