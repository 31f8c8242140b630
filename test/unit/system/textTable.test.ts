import { describe, expect, it } from 'vitest';
import { renderTable } from '../../../src/system/textTable.js';

describe('renderTable', () => {
  it('pads each column to its widest cell, two spaces apart, with no trailing blanks', () => {
    expect(
      renderTable(
        ['node', 'pid', 'alive'],
        [
          ['1', '12345', 'yes'],
          ['22', '7', ''],
        ],
      ),
    ).toBe(['node  pid    alive', '1     12345  yes', '22    7'].join('\n'));
  });

  it('right-aligns the columns asked for and draws a rule under the header', () => {
    expect(
      renderTable(
        ['url', 'pv'],
        [
          ['/a', '7'],
          ['/bb', '1234'],
        ],
        { rightAligned: [false, true], headerRule: true },
      ),
    ).toBe(['url    pv', '---  ----', '/a      7', '/bb  1234'].join('\n'));
  });

  it('prints the header alone when there are no rows', () => {
    expect(renderTable(['a', 'bb'], [])).toBe('a  bb');
  });
});
