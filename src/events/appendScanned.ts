import type { PackedColumnBuffer } from '../lake/packedColumns.js';
import type { StreamName } from './types.js';
import type { FastScan } from './validate.js';

/**
 * Appends one event the fast scan accepted (`scanClickstream` / `scanIot` on `value`) to a packed
 * buffer of its raw table, field bytes copied straight from the record: no string, no row object.
 * Column indices are the table's column order (src/lake/tables.ts).
 */
export function appendScanned(stream: StreamName, buffer: PackedColumnBuffer, value: Uint8Array, scan: FastScan): void {
  const s = scan.spans;
  if (stream === 'clickstream') {
    buffer.pushBytes(0, value, s[0]!, s[1]!, true); // event_id
    buffer.pushBytes(1, value, s[2]!, s[3]!, true); // user_id
    buffer.pushBytes(2, value, s[4]!, s[5]!, true); // url
    if (s[6]! < 0) buffer.pushNull(3);
    else buffer.pushBytes(3, value, s[6]!, s[7]!, true); // referrer
    buffer.pushBytes(4, value, s[8]!, s[9]!, true); // ua
    buffer.pushNumber(5, scan.tsMs); // ts
  } else {
    const v = scan.numbers;
    buffer.pushBytes(0, value, s[0]!, s[1]!, true); // device_id
    buffer.pushBytes(1, value, s[2]!, s[3]!, true); // site
    buffer.pushNumber(2, v[0]!); // temp_c
    buffer.pushNumber(3, v[1]!); // humidity
    buffer.pushNumber(4, v[2]!); // battery
    buffer.pushNumber(5, v[3]!); // signal_strength
    buffer.pushNumber(6, scan.tsMs); // ts
  }
  buffer.endRow();
}
