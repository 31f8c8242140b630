import { describe, expect, it } from 'vitest';
import { displayBytes, MAX_HEX_BYTES } from '../../../../src/kafka/browser/displayBytes.js';

describe('displayBytes', () => {
  it('pretty-prints JSON', () => {
    expect(displayBytes(Buffer.from('{"a":1,"b":[true]}'))).toEqual({
      kind: 'json',
      text: '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}',
      bytes: 18,
    });
  });

  it('keeps other UTF-8 as text, HTML included (the page puts it into textContent)', () => {
    expect(displayBytes(Buffer.from('<img src=x onerror=alert(1)>'))).toEqual({
      kind: 'text',
      text: '<img src=x onerror=alert(1)>',
      bytes: 28,
    });
    expect(displayBytes(Buffer.from('{not json'))).toMatchObject({ kind: 'text', text: '{not json' });
    expect(displayBytes(Buffer.from('Grüße\n'))).toMatchObject({ kind: 'text', text: 'Grüße\n', bytes: 8 });
  });

  it('shows invalid UTF-8 and control bytes as hex', () => {
    expect(displayBytes(Buffer.from([0x00, 0x01, 0xff]))).toEqual({ kind: 'binary', text: '00 01 ff', bytes: 3 });
    expect(displayBytes(Buffer.from('a\u0000b'))).toMatchObject({ kind: 'binary', text: '61 00 62' });
  });

  it('cuts long hex but reports the full size', () => {
    const d = displayBytes(Buffer.alloc(MAX_HEX_BYTES + 10, 0xff));
    expect(d.bytes).toBe(MAX_HEX_BYTES + 10);
    expect(d.text.endsWith(' …')).toBe(true);
    expect(d.text.split(' ').length).toBe(MAX_HEX_BYTES + 1);
  });

  it('null stays null', () => {
    expect(displayBytes(null)).toEqual({ kind: 'null', text: '', bytes: 0 });
  });
});
