/** The status page: one self-contained HTML document polling /api/status every two seconds. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Streaming Data Platform — status</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d2330; background: #f5f6f8; }
  body { margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem 3rem; }
  h1 { font-size: 1.3rem; margin: 0.5rem 0 0.2rem; }
  h2 { font-size: 1rem; margin: 1.6rem 0 0.5rem; text-transform: uppercase; letter-spacing: 0.05em; color: #4a5468; }
  .muted { color: #6b7385; font-size: 0.85rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 0.7rem; }
  .card { background: white; border-radius: 8px; padding: 0.7rem 0.9rem; box-shadow: 0 1px 2px #0001; }
  .card .v { font-size: 1.5rem; font-variant-numeric: tabular-nums; font-weight: 600; }
  .card .k { font-size: 0.8rem; color: #6b7385; }
  table { width: 100%; border-collapse: collapse; background: white; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 2px #0001; }
  th, td { text-align: right; padding: 0.35rem 0.6rem; font-variant-numeric: tabular-nums; font-size: 0.9rem; }
  th:first-child, td:first-child { text-align: left; }
  th { background: #eef0f4; font-weight: 600; }
  tr + tr td { border-top: 1px solid #eef0f4; }
  .bad { color: #b42318; } .ok { color: #067647; }
  #error { color: #b42318; min-height: 1.2rem; }
</style>
</head>
<body>
<h1>Streaming Data Platform</h1>
<div class="muted">Live status, refreshed every 2 s · <a href="/metrics">Prometheus metrics</a> · <a href="/api/status">JSON</a></div>
<div id="error"></div>
<h2>Producer</h2>
<div class="cards" id="producer"></div>
<h2>Event-time windows</h2>
<div class="cards" id="windows"></div>
<h2>ETL partitions</h2>
<table id="partitions"><thead><tr><th>topic / partition</th><th>valid events</th><th>rejected</th><th>lake offset</th><th>window offset</th><th>caught up</th><th>paused</th></tr></thead><tbody></tbody></table>
<h2>Rejected events by reason</h2>
<table id="rejected"><thead><tr><th>reason</th><th>events</th></tr></thead><tbody></tbody></table>
<script>
const fmt = (n) => n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 });
const card = (k, v, cls = '') => '<div class="card"><div class="v ' + cls + '">' + v + '</div><div class="k">' + k + '</div></div>';
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
async function refresh() {
  try {
    const res = await fetch('/api/status');
    if (!res.ok) throw new Error('status ' + res.status);
    const s = await res.json();
    document.getElementById('error').textContent = '';
    const p = s.producer;
    document.getElementById('producer').innerHTML = p
      ? p.streams.map((x) => card(esc(x.stream) + ' events/s', fmt(x.eventsPerSecond)) + card(esc(x.stream) + ' total', fmt(x.total)) + card(esc(x.stream) + ' ack p99 ms', fmt(x.ackLatencyMsP99)) + card(esc(x.stream) + ' errors', fmt(x.errors), x.errors ? 'bad' : 'ok')).join('')
      : '<div class="muted">not running in this process</div>';
    const e = s.etl;
    if (e) {
      const a = e.aggregator;
      document.getElementById('windows').innerHTML =
        card('global watermark', a.globalWatermarkMs ? new Date(a.globalWatermarkMs).toISOString().slice(11, 19) + ' UTC' : '–') +
        card('watermark lag s', fmt(a.watermarkLagSeconds)) + card('windows open', fmt(a.windowsOpen)) +
        card('windows emitted', fmt(a.windowsEmittedTotal)) + card('late events', fmt(a.lateEventsTotal), a.lateEventsTotal ? 'bad' : 'ok') +
        card('checkpoints', fmt(e.checkpoints));
      document.querySelector('#partitions tbody').innerHTML = e.ingest.flatMap((i) => i.partitions.map((x) =>
        '<tr><td>' + esc(i.topic) + ' / ' + x.partition + '</td><td>' + fmt(x.valid) + '</td><td>' + fmt(Object.values(x.rejected).reduce((a, b) => a + b, 0)) +
        '</td><td>' + esc(x.rawOffset) + '</td><td>' + esc(x.aggOffset ?? '–') + '</td><td>' + (x.caughtUp ? 'yes' : 'no') + '</td><td class="' + (x.paused ? 'bad' : '') + '">' + (x.paused ? 'paused' : '') + '</td></tr>')).join('');
      document.querySelector('#rejected tbody').innerHTML = Object.entries(e.rejectedTotal).map(([r, n]) => '<tr><td>' + esc(r) + '</td><td>' + fmt(n) + '</td></tr>').join('') || '<tr><td class="muted">none</td><td></td></tr>';
    } else {
      document.getElementById('windows').innerHTML = '<div class="muted">ETL not running in this process</div>';
    }
  } catch (err) {
    document.getElementById('error').textContent = 'cannot reach the platform: ' + err.message;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
`;
