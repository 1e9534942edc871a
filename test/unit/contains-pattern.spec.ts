import { containsPattern } from '../../src/common/sql/contains-pattern';

describe('containsPattern', () => {
  it('wraps the text in % and escapes the ILIKE wildcards and the escape character', () => {
    expect(containsPattern('ab')).toBe('%ab%');
    expect(containsPattern('50%_off\\')).toBe('%50\\%\\_off\\\\%');
  });
});
