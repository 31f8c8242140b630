import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../src/errors.js';
import { classifyQueryError, errorClassOf } from '../../../src/query/queryError.js';

const options = { root: '/lake', empty: ['iot', '_rejected'] as const };

describe('classifyQueryError', () => {
  it('calls a syntax error an invalid statement and keeps the caret under the right character', () => {
    const err = classifyQueryError(
      new Error('Parser Error: syntax error at or near "selec"\n\nLINE 1: selec 1\n        ^'),
      { ...options, empty: [...options.empty] },
    );
    expect(err.code).toBe(ErrorCodes.QUERY_INVALID);
    expect(err.message).toBe('Parser Error: syntax error at or near "selec"');
    // main prints a detail as "  - <detail>": 4 characters before "LINE", 4 more before the caret line.
    expect(err.details).toEqual(['LINE 1: selec 1\n            ^']);
  });

  it('calls an unknown table or column an invalid statement', () => {
    expect(
      classifyQueryError(new Error('Catalog Error: Table with name nope does not exist!'), {
        ...options,
        empty: [...options.empty],
      }).code,
    ).toBe(ErrorCodes.QUERY_INVALID);
    expect(
      classifyQueryError(new Error('Binder Error: Referenced column "x" not found'), {
        ...options,
        empty: [...options.empty],
      }).code,
    ).toBe(ErrorCodes.QUERY_INVALID);
  });

  it('says that a lake table has no data yet when the statement needs one without files', () => {
    const err = classifyQueryError(
      new Error('Catalog Error: Table with name IOT does not exist!\nDid you mean "clickstream"?'),
      { ...options, empty: [...options.empty] },
    );
    expect(err.code).toBe(ErrorCodes.QUERY_NO_DATA);
    expect(err.message).toBe('table iot has no data in the lake at /lake yet (no Parquet files under tables/iot)');
  });

  it('calls I/O and memory errors failures at run time', () => {
    expect(
      classifyQueryError(new Error('IO Error: No magic bytes found at end of file'), { ...options, empty: [] }).code,
    ).toBe(ErrorCodes.QUERY_FAILED);
    expect(
      classifyQueryError(new Error('Out of Memory Error: failed to allocate'), { ...options, empty: [] }).code,
    ).toBe(ErrorCodes.QUERY_FAILED);
  });

  it('calls any error that names a file of the lake a failure at run time, not a bad statement', () => {
    const err = classifyQueryError(
      new Error(
        "Invalid Input Error: No magic bytes found at end of file '/lake/tables/iot/dt=2024-03-01/part-0-1-2.parquet'",
      ),
      { ...options, empty: [] },
    );
    expect(err.code).toBe(ErrorCodes.QUERY_FAILED);
    expect(classifyQueryError(new Error('Invalid Input Error: bad argument'), { ...options, empty: [] }).code).toBe(
      ErrorCodes.QUERY_INVALID,
    );
  });

  it('says which table cannot be read when the statement needs a table whose view failed', () => {
    const err = classifyQueryError(new Error('Catalog Error: Table with name iot does not exist!'), {
      root: '/lake',
      empty: [],
      unreadable: [
        {
          table: 'iot',
          message:
            "Invalid Input Error: No magic bytes found at end of file '/lake/tables/iot/dt=2024-03-01/x.parquet'\n\nLINE 1: CREATE VIEW",
        },
      ],
    });
    expect(err.code).toBe(ErrorCodes.QUERY_FAILED);
    expect(err.message).toBe('table iot in the lake at /lake cannot be read');
    expect(err.details).toEqual([
      "DuckDB: Invalid Input Error: No magic bytes found at end of file '/lake/tables/iot/dt=2024-03-01/x.parquet'",
    ]);
  });

  it('reads the error class from the message', () => {
    expect(errorClassOf('Conversion Error: Could not convert')).toBe('Conversion');
    expect(errorClassOf('Out of Memory Error: x')).toBe('Out of Memory');
    expect(errorClassOf('something else')).toBeUndefined();
  });
});
