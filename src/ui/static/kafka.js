import { el, fill, fmt, time, bytes } from '/static/dom.js';

async function api(path) {
  const res = await fetch(path);
  const body = await res.json().catch(() => ({ error: 'status ' + res.status }));
  if (!res.ok) throw new Error(body.error || 'status ' + res.status);
  return body;
}

const link = (hash, text) => el('a', { href: '#' + hash }, text);
const table = (id, header, rows) =>
  el(
    'table',
    { id },
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        header.map((h) => el('th', {}, h)),
      ),
    ),
    el('tbody', {}, rows),
  );
const shown = (d) => el('pre', { 'data-kind': d.kind }, d.kind === 'null' ? '(null)' : d.text);

async function overview() {
  const [brokers, topics] = await Promise.all([api('/api/brokers'), api('/api/topics')]);
  return [
    el('h2', {}, 'Brokers'),
    table(
      'brokers',
      ['id', 'address', 'controller', 'state'],
      brokers.map((b) =>
        el(
          'tr',
          {},
          el('td', {}, b.nodeId ?? '?'),
          el('td', {}, b.address),
          el('td', {}, b.controller ? 'yes' : ''),
          el('td', { class: b.up ? 'ok' : 'bad' }, b.up ? 'up' : 'down'),
        ),
      ),
    ),
    el('h2', {}, 'Topics'),
    table(
      'topics',
      ['topic', 'partitions', 'replication factor', 'records', 'size (all replicas)'],
      topics.map((t) =>
        el(
          'tr',
          { 'data-topic': t.name },
          el(
            'td',
            {},
            link('/topic/' + encodeURIComponent(t.name), t.name),
            t.internal ? el('span', { class: 'muted' }, ' internal') : null,
          ),
          el('td', {}, t.partitions),
          el('td', {}, t.replicationFactor),
          el('td', { 'data-field': 'records' }, t.records),
          el(
            'td',
            { 'data-field': 'bytes', title: t.bytes === null ? '' : t.bytes + ' bytes' },
            t.bytes === null ? '–' : bytes(t.bytes),
          ),
        ),
      ),
    ),
  ];
}

async function topic(name) {
  const t = await api('/api/topic?name=' + encodeURIComponent(name));
  return [
    el('h2', {}, 'Topic ', el('span', { 'data-testid': 'topic-name' }, t.name)),
    el(
      'div',
      { class: 'muted' },
      t.partitions +
        ' partitions · replication factor ' +
        t.replicationFactor +
        ' · ' +
        t.records +
        ' records · ' +
        (t.bytes === null ? 'size unknown' : bytes(t.bytes) + ' on disk (all replicas)'),
    ),
    el('h2', {}, 'Partitions'),
    table(
      'partitions',
      ['partition', 'leader', 'replicas', 'in-sync replicas', 'start offset', 'end offset', ''],
      t.partitionList.map((p) =>
        el(
          'tr',
          { 'data-partition': p.partition },
          el('td', {}, p.partition),
          el('td', {}, p.leader),
          el('td', {}, p.replicas.join(', ')),
          el('td', { class: p.isr.length < p.replicas.length ? 'bad' : '' }, p.isr.join(', ')),
          el('td', { 'data-field': 'startOffset' }, p.startOffset),
          el('td', { 'data-field': 'endOffset' }, p.endOffset),
          el('td', {}, link('/messages?topic=' + encodeURIComponent(t.name) + '&partition=' + p.partition, 'messages')),
        ),
      ),
    ),
    el('h2', {}, 'Configs'),
    table(
      'configs',
      ['name', 'value', 'source'],
      t.configs.map((c) =>
        el(
          'tr',
          { class: c.isDefault ? 'muted' : '' },
          el('td', {}, c.name),
          el('td', {}, c.value ?? '(null)'),
          el('td', {}, c.isDefault ? 'default' : 'set on topic'),
        ),
      ),
    ),
  ];
}

async function groups() {
  const gs = await api('/api/groups');
  return [
    el('h2', {}, 'Consumer groups'),
    table(
      'groups',
      ['group', 'state', 'protocol', 'members'],
      gs.map((g) =>
        el(
          'tr',
          { 'data-group': g.groupId },
          el('td', {}, link('/group/' + encodeURIComponent(g.groupId), g.groupId)),
          el('td', {}, g.state),
          el('td', {}, g.protocolType),
          el('td', {}, g.members),
        ),
      ),
    ),
  ];
}

async function group(id) {
  const g = await api('/api/group?id=' + encodeURIComponent(id));
  return [
    el('h2', {}, 'Group ', el('span', {}, g.groupId)),
    el('div', { class: 'muted' }, g.state + ' · ' + g.members + ' members'),
    el('h2', {}, 'Members'),
    table(
      'members',
      ['member', 'client', 'host', 'assignment'],
      g.memberList.map((m) =>
        el(
          'tr',
          {},
          el('td', {}, m.memberId),
          el('td', {}, m.clientId),
          el('td', {}, m.host),
          el('td', {}, m.assignment.map((a) => a.topic + ': ' + a.partitions.join(',')).join('; ')),
        ),
      ),
    ),
    el('h2', {}, 'Committed offsets'),
    table(
      'offsets',
      ['topic', 'partition', 'committed', 'end offset', 'lag'],
      g.offsets.map((o) =>
        el(
          'tr',
          { 'data-partition': o.topic + '/' + o.partition },
          el('td', {}, o.topic),
          el('td', {}, o.partition),
          el('td', { 'data-field': 'committed' }, o.committed),
          el('td', { 'data-field': 'endOffset' }, o.endOffset),
          el('td', { 'data-field': 'lag' }, o.lag),
        ),
      ),
    ),
  ];
}

async function messages(params) {
  const q = new URLSearchParams(params);
  const field = (name, label, value, type = 'text') =>
    el('label', {}, label, el('input', { name, value: value ?? '', type, size: 14 }));
  const from = q.get('from') || 'last';
  const select = el(
    'select',
    { name: 'from' },
    ['last', 'offset', 'timestamp'].map((v) =>
      el('option', { value: v, selected: v === from }, v === 'last' ? 'last N' : 'from ' + v),
    ),
  );
  const form = el(
    'form',
    { class: 'inline', id: 'message-form' },
    field('topic', 'topic', q.get('topic')),
    field('partition', 'partition', q.get('partition') || '0'),
    el('label', {}, 'read', select),
    field('offset', 'offset', q.get('offset')),
    field('timestamp', 'timestamp (ms or ISO)', q.get('timestamp')),
    field('limit', 'N', q.get('limit') || '20'),
    el('button', { type: 'submit' }, 'show'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new URLSearchParams(new FormData(form));
    location.hash = '/messages?' + data.toString();
  });
  const out = [el('h2', {}, 'Messages'), form];
  if (q.get('topic')) {
    q.set('from', from);
    const ms = await api('/api/messages?' + q.toString());
    out.push(
      el('div', { class: 'muted' }, ms.length + ' message(s)'),
      table(
        'messages',
        ['offset', 'timestamp', 'key', 'headers', 'value'],
        ms.map((m) =>
          el(
            'tr',
            { 'data-offset': m.offset },
            el('td', {}, m.offset),
            el('td', {}, time(m.timestampMs)),
            el('td', { class: 'l' }, shown(m.key)),
            el(
              'td',
              { class: 'l' },
              m.headers.map((h) => el('div', {}, h.key + ': ', shown(h.value))),
            ),
            el(
              'td',
              { class: 'l', 'data-field': 'value' },
              shown(m.value),
              el('div', { class: 'muted' }, m.value.kind + ' · ' + fmt(m.value.bytes, 0) + ' bytes'),
            ),
          ),
        ),
      ),
    );
  }
  return out;
}

async function route() {
  const hash = location.hash.slice(1) || '/';
  const [path, query] = hash.split('?');
  document.body.dataset.loaded = 'false';
  try {
    let content;
    if (path.startsWith('/topic/')) content = await topic(decodeURIComponent(path.slice(7)));
    else if (path === '/groups') content = await groups();
    else if (path.startsWith('/group/')) content = await group(decodeURIComponent(path.slice(7)));
    else if (path === '/messages') content = await messages(query || '');
    else content = await overview();
    fill('main', content);
    fill('error');
  } catch (err) {
    fill('error', err.message);
  }
  document.body.dataset.loaded = 'true';
}
window.addEventListener('hashchange', route);
route();
