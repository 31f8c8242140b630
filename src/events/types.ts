/**
 * The data contracts of architecture.md, "Data contracts". Wire events are JSON objects; `ts` is ISO-8601 UTC
 * or epoch milliseconds on the wire and epoch milliseconds (`tsMs`) once validated.
 */

export type StreamName = 'clickstream' | 'iot';

/** A clickstream event as produced on the wire (keyed by user_id). */
export interface ClickstreamEvent {
  event_id: string;
  user_id: string;
  url: string;
  /** Optional: empty or absent for direct visits. */
  referrer?: string | null;
  ua: string;
  ts: string | number;
}

/** An IoT reading as produced on the wire (keyed by device_id). */
export interface IotEvent {
  device_id: string;
  site: string;
  temp_c: number;
  humidity: number;
  battery: number;
  signal_strength: number;
  ts: string | number;
}

/** A validated clickstream row, event time in epoch ms. */
export interface ClickstreamRow {
  event_id: string;
  user_id: string;
  url: string;
  referrer: string | null;
  ua: string;
  tsMs: number;
}

/** A validated IoT row, event time in epoch ms. */
export interface IotRow {
  device_id: string;
  site: string;
  temp_c: number;
  humidity: number;
  battery: number;
  signal_strength: number;
  tsMs: number;
}
