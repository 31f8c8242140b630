// Builds DOM nodes from data. Every string goes in as a text node (textContent), never as HTML:
// topic names, keys, headers and values are whatever producers wrote.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function fill(id, ...children) {
  const node = typeof id === 'string' ? document.getElementById(id) : id;
  node.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null));
  return node;
}

export const fmt = (n, digits = 1) =>
  n === null || n === undefined || n === ''
    ? '–'
    : Number(n).toLocaleString('en-US', { maximumFractionDigits: digits });
export const time = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '–');
export const bytes = (b) =>
  b < 1024
    ? b + ' B'
    : b < 1048576
      ? (b / 1024).toFixed(1) + ' KB'
      : b < 1073741824
        ? (b / 1048576).toFixed(1) + ' MB'
        : (b / 1073741824).toFixed(2) + ' GB';
export const card = (k, v, cls, testid) =>
  el(
    'div',
    { class: 'card', 'data-testid': testid },
    el('div', { class: 'v ' + (cls || '') }, v),
    el('div', { class: 'k' }, k),
  );
