import { setBounded } from '../../src/common/collections/bounded-map';

describe('setBounded', () => {
  it('drops the oldest entry at the bound, and a key set again counts as the newest', () => {
    const m = new Map<string, number>();
    setBounded(m, 'a', 1, 2);
    setBounded(m, 'b', 2, 2);
    setBounded(m, 'a', 3, 2);
    setBounded(m, 'c', 4, 2);
    expect([...m]).toEqual([
      ['a', 3],
      ['c', 4],
    ]);
  });
});
