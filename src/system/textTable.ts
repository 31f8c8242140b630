/**
 * The one renderer of the column tables the CLI prints (`services ps`, `kafka status`, `topics describe`,
 * `data stats`, `query`): one header row, columns padded to their widest cell, two spaces apart, no
 * trailing blanks.
 */
export interface TextTableOptions {
  /** Per column: pad on the left (numbers) instead of the right. */
  rightAligned?: readonly boolean[];
  /** A row of dashes under the header, as wide as each column. */
  headerRule?: boolean;
}

export function renderTable(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  options: TextTableOptions = {},
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (options.rightAligned?.[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = options.headerRule ? [widths.map((w) => '-'.repeat(w)).join('  ')] : [];
  return [line(header), ...rule, ...rows.map(line)].join('\n');
}
