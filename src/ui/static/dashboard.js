import { el, fill, fmt, time, bytes, card } from '/static/dom.js';

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777'];
const charts = {};

// One uPlot chart per figure; rebuilt when its set of series changes (a new stream or table).
function plot(id, title, history, seriesOf, unit) {
  const keys = [...new Set(history.flatMap((h) => Object.keys(seriesOf(h))))].sort();
  const data = [history.map((h) => h.tMs / 1000), ...keys.map((k) => history.map((h) => seriesOf(h)[k] ?? null))];
  const box = document.getElementById(id);
  const sig = keys.join('|');
  if (!charts[id] || charts[id].sig !== sig) {
    charts[id]?.u.destroy();
    box.replaceChildren();
    const u = new uPlot(
      {
        title,
        width: Math.max(300, box.clientWidth - 8),
        height: 200,
        series: [
          {},
          ...keys.map((k, i) => ({
            label: k,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            value: (_u, v) => (v === null ? '–' : fmt(v) + (unit ? ' ' + unit : '')),
          })),
        ],
        axes: [{}, { size: 60 }],
        scales: { x: { time: true } },
      },
      data,
      box,
    );
    charts[id] = { u, sig };
  } else {
    charts[id].u.setData(data);
  }
}

function tree(nodes) {
  return nodes.map((n) =>
    el(
      'li',
      { 'data-actor': n.name },
      el('span', {}, n.name),
      el('span', { class: 'state ' + n.state }, n.state),
      el('span', { class: 'muted' }, ' mailbox ' + n.mailbox + ' · restarts ' + n.restarts),
      n.children.length ? el('ul', {}, tree(n.children)) : null,
    ),
  );
}

function render(s) {
  fill('updated', 'as of ' + time(s.timeMs));
  fill(
    'warnings',
    s.warnings.map((w) => el('div', { 'data-warning': w.id }, '⚠ ' + w.message)),
  );
  const p = s.producer;
  const e = s.etl;
  const lagTotal = s.partitions.reduce((a, x) => a + (x.lagEvents ?? 0), 0);
  const lagS = Math.max(0, ...s.partitions.map((x) => x.lagSeconds ?? 0));
  fill(
    'overview',
    (p ? p.streams : []).flatMap((x) => [
      card(x.stream + ' produced/s', fmt(x.eventsPerSecond)),
      card(x.stream + ' produced', fmt(x.total, 0), '', 'produced-' + x.stream),
    ]),
    card('lag (events)', fmt(lagTotal, 0), lagTotal > 0 ? 'warn' : 'ok', 'lag-total'),
    card('lag (s)', fmt(lagS), '', 'lag-seconds'),
    card('checkpoints', e ? fmt(e.checkpoints, 0) : '–', '', 'checkpoints'),
    card('last checkpoint', s.checkpoint?.lastAtMs ? time(s.checkpoint.lastAtMs).slice(11) : '–'),
    card(
      'last checkpoint took',
      s.checkpoint && s.checkpoint.lastDurationMs !== null ? fmt(s.checkpoint.lastDurationMs, 0) + ' ms' : '–',
    ),
    card('restarts (last hour)', fmt(s.restartsLastHour, 0), s.restartsLastHour ? 'bad' : 'ok', 'restarts'),
    card('RSS', bytes(s.rssBytes)),
  );
  fill(
    document.querySelector('#partitions tbody'),
    s.partitions.map((x) =>
      el(
        'tr',
        { 'data-partition': x.topic + '/' + x.partition },
        el('td', {}, x.topic + ' / ' + x.partition),
        el('td', { 'data-field': 'assigned', class: x.assigned ? 'ok' : 'bad' }, x.assigned ? 'yes' : 'no'),
        el('td', { 'data-field': 'paused', class: x.paused ? 'warn' : '' }, x.paused ? 'paused' : 'no'),
        el('td', { 'data-field': 'logStartOffset' }, x.logStartOffset ?? '–'),
        el('td', { 'data-field': 'logEndOffset' }, x.logEndOffset ?? '–'),
        el('td', { 'data-field': 'durableNextOffset' }, x.durableNextOffset ?? '–'),
        el('td', { 'data-field': 'lagEvents' }, x.lagEvents === null ? '–' : (x.lagExact ? '' : '≈') + x.lagEvents),
        el('td', { 'data-field': 'lagSeconds' }, x.lagSeconds === null ? '–' : x.lagSeconds.toFixed(1)),
        el('td', { 'data-field': 'watermark' }, x.watermarkMs ? time(x.watermarkMs).slice(11) : '–'),
        el('td', { 'data-field': 'validEvents' }, String(x.validEvents)),
        el('td', { 'data-field': 'rejectedEvents' }, String(x.rejectedEvents)),
      ),
    ),
  );
  if (e) {
    const a = e.aggregator;
    fill(
      'windows',
      card('global watermark', a.globalWatermarkMs ? time(a.globalWatermarkMs).slice(11) : '–'),
      card('watermark lag (s)', fmt(a.watermarkLagSeconds)),
      card('windows open', fmt(a.windowsOpen, 0), '', 'windows-open'),
      card('windows emitted', fmt(a.windowsEmittedTotal, 0), '', 'windows-emitted'),
      card('late events', fmt(a.lateEventsTotal, 0), a.lateEventsTotal ? 'bad' : 'ok', 'late-events'),
    );
    const reasons = Object.entries(e.rejectedTotal);
    fill(
      document.querySelector('#rejected tbody'),
      reasons.length
        ? reasons.map(([r, n]) => el('tr', { 'data-reason': r }, el('td', {}, r), el('td', {}, String(n))))
        : el('tr', {}, el('td', { class: 'muted' }, 'none'), el('td', {})),
    );
  } else {
    fill('windows', el('div', { class: 'muted' }, 'ETL not running in this process'));
  }
  fill(
    document.querySelector('#lake tbody'),
    s.lake.map((t) =>
      el(
        'tr',
        { 'data-table': t.table },
        el('td', {}, t.table),
        el('td', { 'data-field': 'files' }, String(t.files)),
        el('td', { 'data-field': 'bytes' }, bytes(t.bytes)),
      ),
    ),
  );
  // The ETL's last sealer pass (architecture.md, "Sealed days"), newest day first.
  const sealed = [...(e?.sealedDays?.manifests ?? [])].sort((a, b) => (a.dt < b.dt ? 1 : a.dt > b.dt ? -1 : 0));
  fill(
    document.querySelector('#sealed tbody'),
    sealed.length
      ? sealed.map((m) =>
          el(
            'tr',
            { 'data-sealed': m.table + '/' + m.dt },
            el('td', { class: 'l' }, m.dt),
            el('td', { class: 'l' }, m.table),
            el('td', {}, String(m.rows)),
            el('td', { 'data-field': 'lateRows', class: m.lateRows ? 'warn' : '' }, String(m.lateRows)),
            el('td', {}, String(m.revision)),
          ),
        )
      : el('tr', {}, el('td', { class: 'muted', colspan: '5' }, 'none yet')),
  );
  fill('actors', tree(s.actors));
  // Every member of the ETL's group as Kafka describes it, wherever it runs (architecture.md, "Web pages").
  const g = s.group;
  fill('group-title', g ? `${g.id} (${g.state})${g.error ? ': ' + g.error : ''}` : '');
  fill(
    document.querySelector('#group tbody'),
    g && g.members.length > 0
      ? g.members.map((m) =>
          el(
            'tr',
            { 'data-member': m.memberId },
            el('td', { class: 'l', 'data-field': 'clientId' }, m.clientId),
            el('td', { class: 'l', 'data-field': 'host' }, m.host.replace(/^\//, '')),
            el(
              'td',
              { class: 'l', 'data-field': 'partitions' },
              m.assignment.length > 0
                ? m.assignment.map((a) => `${a.topic} ${a.partitions.join(',')}`).join(' · ')
                : '–',
            ),
          ),
        )
      : el('tr', {}, el('td', { class: 'muted l', colspan: 3 }, 'no members')),
  );
  fill(
    document.querySelector('#brokers tbody'),
    (s.brokers ?? []).map((b) =>
      el(
        'tr',
        {},
        el('td', {}, b.nodeId ?? '?'),
        el('td', { class: 'l' }, b.address),
        el('td', {}, b.controller ? 'yes' : ''),
        el('td', { class: b.up ? 'ok' : 'bad' }, b.up ? 'up' : 'down'),
      ),
    ),
  );
}

function renderCharts(history) {
  plot('chart-produced', 'produced events/s per stream', history, (h) => h.producedPerSecond);
  plot('chart-rows', 'lake rows/s per table', history, (h) => h.lakeRowsPerSecond);
  plot('chart-lag', 'lag per topic (events)', history, (h) => h.lagByTopic);
  plot(
    'chart-watermark',
    'watermark lag (s)',
    history,
    (h) => (h.watermarkLagSeconds === null ? {} : { 'watermark lag': h.watermarkLagSeconds }),
    's',
  );
  plot('chart-rss', 'RSS (MB)', history, (h) => ({ rss: h.rssBytes / 1048576 }), 'MB');
}

async function refresh() {
  try {
    const [status, history] = await Promise.all([fetch('/api/status'), fetch('/api/history')]);
    if (!status.ok) throw new Error('status ' + status.status);
    render(await status.json());
    if (history.ok) renderCharts(await history.json());
    fill('error');
    document.body.dataset.loaded = 'true';
  } catch (err) {
    fill('error', 'cannot reach the platform: ' + err.message);
  }
}
refresh();
setInterval(refresh, 2000);
