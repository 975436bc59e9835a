// DOM helpers of the admin console. Every piece of data reaches the page through text nodes or
// setAttribute on fixed, safe attribute names: prompt text, profile text, item titles and error messages
// are untrusted, so nothing here (or anywhere in the console) assigns innerHTML, outerHTML or
// insertAdjacentHTML, and no data ever becomes a URL.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Attributes data may set: no href/src/on*, so data can never become a link or a handler. */
const SAFE_ATTRS = new Set(['class', 'type', 'name', 'value', 'placeholder', 'title', 'for', 'id', 'rows', 'cols', 'min', 'max', 'step',
  'required', 'disabled', 'selected', 'checked', 'autocomplete', 'aria-label', 'aria-live', 'role', 'data-testid', 'data-state', 'data-version',
  'data-view', 'spellcheck', 'open', 'colspan']);

/**
 * Creates an element: `h('button', { class: 'x', onclick: fn }, 'text', child)`. Strings become text
 * nodes; functions under on* keys become listeners; other attributes must be on the safe list.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (SAFE_ATTRS.has(k)) el.setAttribute(k, v === true ? '' : String(v));
    else throw new Error(`h(): attribute ${k} is not allowed`);
  }
  append(el, children);
  return el;
}

/** Appends children (nodes, strings, numbers, nested arrays; null/undefined/false skipped). */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** An SVG element with numeric/presentation attributes (no style, no href). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'href' || k.startsWith('on') || k === 'style') throw new Error(`svg(): attribute ${k} is not allowed`);
    el.setAttribute(k, String(v));
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** A number for display: 3 decimals, or an em dash for missing values. */
export function fmt(n, digits = 3) {
  return typeof n === 'number' && Number.isFinite(n) ? (Number.isInteger(n) ? String(n) : n.toFixed(digits)) : '—';
}

/** A date (ISO string or epoch ms) in the browser's locale. */
export function when(v) {
  if (v === null || v === undefined) return '—';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
}

/**
 * Asks for confirmation in an in-page <dialog> (not window.confirm: a modal the page styles, and one that
 * tests can tell apart from a dialog that injected script might open). Resolves true on "confirm".
 */
export function confirmAction(message, confirmLabel = 'Confirm') {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'data-testid': 'confirm-dialog' });
    const done = (ok) => {
      dlg.close();
      dlg.remove();
      resolve(ok);
    };
    append(dlg, [
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, 'Cancel'),
        h('button', { type: 'button', class: 'danger', 'data-testid': 'confirm-ok', onclick: () => done(true) }, confirmLabel)),
    ]);
    dlg.addEventListener('cancel', () => done(false));
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** A status line that shows errors (as text) and transient notices. */
export function statusLine() {
  const el = h('p', { class: 'status', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    error(err) {
      el.className = 'status error';
      el.textContent = err instanceof Error ? err.message : String(err);
    },
    info(text) {
      el.className = 'status';
      el.textContent = text;
    },
  };
}
