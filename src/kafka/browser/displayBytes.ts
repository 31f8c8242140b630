/**
 * How the Kafka browser shows bytes: JSON pretty-printed, other valid UTF-8 as text, anything else
 * as hex. The result is plain text for the page to put into textContent, never HTML.
 */
export interface DisplayedBytes {
  kind: 'null' | 'json' | 'text' | 'binary';
  text: string;
  bytes: number;
}

/** Hex shown for a binary value is cut after this many bytes (the size is still reported). */
export const MAX_HEX_BYTES = 4096;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function hasControlChars(text: string): boolean {
  // Tabs and newlines are text; other C0 controls mean the bytes are not meant as text.
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}

export function displayBytes(buf: Buffer | null): DisplayedBytes {
  if (buf === null) return { kind: 'null', text: '', bytes: 0 };
  let text: string | undefined;
  try {
    text = strictUtf8.decode(buf);
  } catch {
    text = undefined;
  }
  if (text !== undefined && !hasControlChars(text)) {
    const trimmed = text.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return { kind: 'json', text: JSON.stringify(JSON.parse(trimmed), null, 2), bytes: buf.length };
      } catch {
        // not JSON after all: shown as text
      }
    }
    return { kind: 'text', text, bytes: buf.length };
  }
  const shown = buf.subarray(0, MAX_HEX_BYTES);
  const hex = shown.toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return { kind: 'binary', text: buf.length > MAX_HEX_BYTES ? `${hex} …` : hex, bytes: buf.length };
}
