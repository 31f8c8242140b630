import { describe, expect, it } from 'vitest';
import type { QueryResult } from '../../../src/query/queryResult.js';
import { formatCsv, formatJson, formatResult, formatTable, jsonCell } from '../../../src/query/resultFormat.js';

const result: QueryResult = {
  columns: [
    { name: 'url', type: 'VARCHAR' },
    { name: 'views', type: 'HUGEINT' },
    { name: 'avg', type: 'DOUBLE' },
    { name: 'day', type: 'DATE' },
  ],
  rows: [
    ['/home', '1389', 2.5, '2024-03-01'],
    ['/a,"b"', '9', null, null],
  ],
};

describe('formatTable', () => {
  it('aligns columns, numbers to the right, NULL spelled out, with a row count', () => {
    expect(formatTable(result)).toBe(
      [
        'url     views   avg  day',
        '------  -----  ----  ----------',
        '/home    1389   2.5  2024-03-01',
        '/a,"b"      9  NULL  NULL',
        '(2 rows)',
        '',
      ].join('\n'),
    );
  });

  it('escapes control characters so that one row stays one line', () => {
    const text = formatTable({ columns: [{ name: 'ua', type: 'VARCHAR' }], rows: [['tab\tnew\nline']] });
    expect(text.split('\n')[2]).toBe('tab\\tnew\\nline');
  });

  it('prints an empty result as a header and (0 rows)', () => {
    expect(formatTable({ columns: [{ name: 'n', type: 'BIGINT' }], rows: [] })).toBe('n\n-\n(0 rows)\n');
  });
});

describe('formatCsv', () => {
  it('writes a header, quotes what needs quoting, NULL as an empty field, CRLF line ends', () => {
    expect(formatCsv(result)).toBe('url,views,avg,day\r\n/home,1389,2.5,2024-03-01\r\n"/a,""b""",9,,\r\n');
  });

  it('writes nested values as JSON text', () => {
    expect(formatCsv({ columns: [{ name: 'l', type: 'INTEGER[]' }], rows: [[[1, 2]]] })).toBe('l\r\n"[1,2]"\r\n');
  });
});

describe('formatJson', () => {
  it('writes an array of objects with integers as numbers', () => {
    expect(JSON.parse(formatJson(result))).toEqual([
      { url: '/home', views: 1389, avg: 2.5, day: '2024-03-01' },
      { url: '/a,"b"', views: 9, avg: null, day: null },
    ]);
  });

  it('keeps every column when names repeat', () => {
    const text = formatJson({
      columns: [
        { name: 'a', type: 'INTEGER' },
        { name: 'a', type: 'INTEGER' },
      ],
      rows: [[1, 2]],
    });
    expect(JSON.parse(text)).toEqual([{ a: 1, a_2: 2 }]);
  });

  it('writes an empty result as []', () => {
    expect(JSON.parse(formatResult({ columns: [{ name: 'n', type: 'BIGINT' }], rows: [] }, 'json'))).toEqual([]);
  });
});

describe('jsonCell', () => {
  it('keeps integers beyond 2^53 as text so that no digit is lost', () => {
    expect(jsonCell('9223372036854775807', { name: 'x', type: 'BIGINT' })).toBe('9223372036854775807');
    expect(jsonCell('9007199254740991', { name: 'x', type: 'BIGINT' })).toBe(9007199254740991);
  });

  it('turns decimals a double holds exactly into numbers, and leaves longer ones as text', () => {
    expect(jsonCell('3.50', { name: 'x', type: 'DECIMAL(10,2)' })).toBe(3.5);
    expect(jsonCell('-0.05', { name: 'x', type: 'DECIMAL(10,2)' })).toBe(-0.05);
    expect(jsonCell('12345678901234567.89', { name: 'x', type: 'DECIMAL(38,2)' })).toBe('12345678901234567.89');
  });

  it('leaves text columns alone even when they look like numbers', () => {
    expect(jsonCell('0012', { name: 'x', type: 'VARCHAR' })).toBe('0012');
  });
});
