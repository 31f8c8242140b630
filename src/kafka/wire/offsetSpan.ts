/** An inclusive range of offsets of one partition. */
export interface OffsetSpan {
  first: bigint;
  last: bigint;
}
