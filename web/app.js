/* The vigil dashboard's behaviour: polls the server's /v1 API, draws the
   live tiles, the alerts of the server's alert store (filters, per-hour
   chart, raw lines), the model card (from the evaluation stored in the model
   file), the scoring form generated from the model's schema with its verdict
   and explanation, and the recent detections. No framework and no network
   beyond this server. Text from the server (field, class and model names,
   record values) only ever enters the page as text nodes, never as markup. */
'use strict';
(function () {
  const KEY_STORE = 'vigil.apiKey';
  const POLL_MS = 2000;
  const HISTORY = 60;          // client-side samples kept for latency and memory sparklines
  const state = {
    models: [],                // GET /v1/models summaries
    current: null,             // name of the model shown in the form and the card
    detail: {},                // name -> GET /v1/models/NAME
    threshold: 0.5,
    lat50: [], lat99: [], mem: [],
    seen: new Set(),           // recent detections already shown (to mark new ones)
    modelStats: {},            // name -> {detections, anomalies} since the server started
    recentTimer: null, statsTimer: null,
    authOpen: false, authDismissed: false, started: false,
  };

  /* ---- DOM helpers ------------------------------------------------------------ */
  const $ = (id) => document.getElementById(id);
  const SVGNS = 'http://www.w3.org/2000/svg';

  // h('div', {class: 'x', text: 'y', style: {...}, onclick: f}, ...children)
  function build(el, attrs, kids) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') el.textContent = String(v);
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }
  const h = (tag, attrs, ...kids) => build(document.createElement(tag), attrs, kids);
  const s = (tag, attrs, ...kids) => build(document.createElementNS(SVGNS, tag), attrs, kids);
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  const color = (i) => `var(--c${Math.max(0, i) % 8})`;

  /* ---- formatting --------------------------------------------------------------- */
  const finite = (v) => typeof v === 'number' && Number.isFinite(v);
  function fmt(v, d = 4) { return finite(v) ? v.toFixed(d) : '–'; }
  function fmtRate(v) {
    if (!finite(v)) return '–';
    return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  }
  function fmtMs(v) {
    if (!finite(v)) return '–';
    return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
  }
  function fmtCount(v) { return finite(v) ? Math.round(v).toLocaleString('en-US') : '–'; }
  function fmtBytes(b) {
    if (!finite(b)) return ['–', ''];
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
    return [b >= 100 ? b.toFixed(0) : b.toFixed(1), units[i]];
  }
  function fmtDuration(sec) {
    if (!finite(sec)) return '–';
    if (sec < 60) return `${Math.floor(sec)} s`;
    if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.floor(sec % 60)} s`;
    if (sec < 86400) return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
    return `${Math.floor(sec / 86400)} d ${Math.floor((sec % 86400) / 3600)} h`;
  }
  function fmtTime(unix) {
    if (!finite(unix)) return '–';
    const d = new Date(unix * 1000);
    return d.toLocaleTimeString('en-GB', { hour12: false });
  }
  function fmtSigned(v) {
    if (!finite(v)) return '–';
    const a = Math.abs(v);
    const t = a >= 100 ? a.toFixed(0) : a >= 1 ? a.toFixed(2) : a.toFixed(3);
    return (v < 0 ? '−' : '+') + t;
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'number') return String(Math.round(v * 1e6) / 1e6);
    return String(v);
  }

  /* ---- the API ------------------------------------------------------------------- */
  class AuthNeeded extends Error {}

  async function api(path, opts = {}) {
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    const key = sessionStorage.getItem(KEY_STORE);
    if (key) headers.Authorization = 'Bearer ' + key;
    let res;
    try {
      res = await fetch(path, Object.assign({}, opts, { headers, cache: 'no-store' }));
    } catch (e) {
      setConn('down', 'server unreachable');
      throw e;
    }
    if (res.status === 401) {
      askForKey(!!key);
      throw new AuthNeeded('an API key is needed');
    }
    const text = await res.text();
    let body = null;
    try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
    if (!res.ok) {
      const err = new Error((body && body.error) || `${res.status} ${res.statusText}`);
      err.status = res.status;
      throw err;
    }
    return body;
  }
  const postJSON = (obj) => ({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(obj) });

  function setConn(kind, text) {
    const el = $('conn');
    el.className = 'pill ' + (kind || '');
    el.textContent = text;
  }

  /* ---- the API key ----------------------------------------------------------------- */
  // Opens the key dialog, unless the analyst closed it: then the top bar's
  // "API key" button reopens it (force) and polls stay quiet meanwhile.
  function askForKey(refused, force) {
    $('key-btn').hidden = false;
    setConn('down', 'API key needed');
    if (state.authOpen || (state.authDismissed && !force)) return;
    state.authOpen = true;
    $('auth').hidden = false;
    const err = $('auth-error');
    err.hidden = !refused;
    err.textContent = refused ? 'The server refused this key. Check it and try again.' : '';
    const input = $('api-key');
    input.value = '';
    setTimeout(() => input.focus(), 0);
  }
  function closeKey() { state.authOpen = false; $('auth').hidden = true; }
  $('auth-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORE, key);
    state.authDismissed = false;
    closeKey();
    start();
  });
  $('auth-cancel').addEventListener('click', () => { state.authDismissed = true; closeKey(); });
  $('key-btn').addEventListener('click', () => askForKey(false, true));

  /* ---- charts ------------------------------------------------------------------------- */
  // A sparkline of one or more series in a fixed 100 x 40 box stretched to the tile.
  function sparkline(svg, series, fixedMax) {
    clear(svg);
    svg.setAttribute('viewBox', '0 0 100 40');
    let max = fixedMax || 0;
    for (const sr of series) for (const v of sr.values) if (finite(v) && v > max) max = v;
    if (!(max > 0)) max = 1;
    for (const sr of series) {
      const n = sr.values.length;
      if (n < 2) continue;
      const pts = sr.values.map((v, i) => [(i / (n - 1)) * 100, 38 - (finite(v) ? v / max : 0) * 34]);
      const line = 'M' + pts.map((p) => p[0].toFixed(2) + ' ' + p[1].toFixed(2)).join('L');
      if (sr.area) svg.appendChild(s('path', { class: 'area', d: line + 'L100 40L0 40Z', style: { fill: sr.color } }));
      svg.appendChild(s('path', { class: 'line', d: line, style: { stroke: sr.color }, 'stroke-dasharray': sr.dashed ? '3 2' : null }));
    }
  }

  // Curves over the unit square with a grid, ticks and axis titles.
  function curveChart(lines, opt) {
    const W = 360, H = 300, L = 44, R = 12, T = 10, B = 40, pw = W - L - R, ph = H - T - B;
    const X = (x) => L + x * pw, Y = (y) => T + ph - y * ph;
    const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': opt.title });
    for (let i = 0; i <= 5; i++) {
      const f = i / 5;
      svg.appendChild(s('line', { class: 'grid', x1: X(f), y1: Y(0), x2: X(f), y2: Y(1) }));
      svg.appendChild(s('line', { class: 'grid', x1: X(0), y1: Y(f), x2: X(1), y2: Y(f) }));
      svg.appendChild(s('text', { class: 'tick', x: X(f), y: Y(0) + 15, 'text-anchor': 'middle', text: f.toFixed(1) }));
      svg.appendChild(s('text', { class: 'tick', x: X(0) - 6, y: Y(f) + 4, 'text-anchor': 'end', text: f.toFixed(1) }));
    }
    svg.appendChild(s('path', { class: 'axis', d: `M${X(0)} ${Y(1)}V${Y(0)}H${X(1)}` }));
    if (opt.diagonal) svg.appendChild(s('line', { class: 'chance', x1: X(0), y1: Y(0), x2: X(1), y2: Y(1) }));
    if (finite(opt.baseline)) svg.appendChild(s('line', { class: 'chance', x1: X(0), y1: Y(opt.baseline), x2: X(1), y2: Y(opt.baseline) }));
    for (const ln of lines) {
      const pts = ln.xy.filter((p) => Array.isArray(p) && finite(p[0]) && finite(p[1]));
      svg.appendChild(s('polyline', { points: pts.map((p) => X(p[0]).toFixed(1) + ',' + Y(p[1]).toFixed(1)).join(' '), style: { stroke: ln.color } }));
    }
    svg.appendChild(s('text', { class: 'label', x: L + pw / 2, y: H - 4, 'text-anchor': 'middle', text: opt.x }));
    svg.appendChild(s('text', { class: 'label', transform: `translate(12 ${T + ph / 2}) rotate(-90)`, 'text-anchor': 'middle', text: opt.y }));
    const legend = h('div', { class: 'legend' }, lines.map((ln) =>
      h('span', null, h('i', { class: 'ln', style: { background: ln.color } }), ln.name, ' ', opt.metric, ' ', h('b', { text: fmt(ln.auc, 3) }))));
    return h('figure', { id: opt.id }, h('figcaption', { text: opt.title }), svg, legend);
  }

  // Rows = truth, columns = prediction; shade = share of the row (square
  // root, so small error rates stay visible), blue right, orange wrong.
  function confusion(classes, matrix) {
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const table = h('table', { class: 'cm' });
    table.appendChild(h('thead', null,
      h('tr', null, h('th'), h('th', { class: 'axis-t', colspan: classes.length, text: 'Predicted' })),
      h('tr', null, h('th', { class: 'row axis-t', text: 'True' }), classes.map((c) => h('th', { title: c, text: c })))));
    const body = h('tbody');
    classes.forEach((c, i) => {
      const row = matrix[i] || [];
      const total = row.reduce((a, b) => a + (b || 0), 0);
      const tr = h('tr', null, h('th', { class: 'row', title: c, text: c }));
      classes.forEach((_, j) => {
        const v = row[j] || 0, share = total ? v / total : 0, t = Math.sqrt(share) * 0.92;
        const rgb = i === j ? [11, 107, 203] : [213, 94, 0];
        const base = dark ? [22, 28, 35] : [255, 255, 255];
        const mix = rgb.map((ch, k) => Math.round(base[k] + (ch - base[k]) * t));
        tr.appendChild(h('td', { style: { background: `rgb(${mix.join(',')})`, color: t > 0.55 || dark ? '#fff' : '#1c2430' }, title: `${c} → ${classes[j]}` },
          h('span', { class: 'c', text: fmtCount(v) }), h('span', { class: 'p', text: total ? (100 * share).toFixed(1) + '%' : '–' })));
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
    return h('div', { class: 'scroll' }, table);
  }

  function importanceBars(gain, top) {
    const entries = Object.entries(gain || {}).filter((e) => finite(e[1]) && e[1] > 0).sort((a, b) => b[1] - a[1]).slice(0, top);
    if (!entries.length) return null;
    const max = entries[0][1];
    return h('div', { class: 'bars' }, entries.map(([name, v]) => [
      h('div', { class: 'f', title: name, text: name }),
      h('div', { class: 't' }, h('div', { class: 'b', style: { width: (100 * v / max).toFixed(1) + '%' } })),
      h('div', { class: 'n', text: (100 * v).toFixed(1) + '%' }),
    ]));
  }

  /* The histogram's threshold line as a share of its score range ([0, 1] for probabilities). */
  function scaledThreshold(sh) {
    const [lo, hi] = Array.isArray(sh.range) && sh.range.length === 2 ? sh.range : [0, 1];
    return finite(sh.threshold) && hi > lo ? (sh.threshold - lo) / (hi - lo) : null;
  }

  function histograms(classes, counts, threshold, range) {
    const [lo, hi] = Array.isArray(range) && range.length === 2 ? range : [0, 1];
    const at = (x) => fmt(lo + x * (hi - lo), 2);
    const rows = classes.filter((c) => Array.isArray(counts[c]));
    let top = 0;
    const shares = rows.map((c) => {
      const tot = counts[c].reduce((a, b) => a + b, 0);
      return counts[c].map((v) => { const r = tot ? Math.sqrt(v / tot) : 0; top = Math.max(top, r); return r; });
    });
    const wrap = h('div', { class: 'hist' });
    rows.forEach((c, r) => {
      const bins = shares[r].length, svg = s('svg', { viewBox: `0 0 ${bins * 10} 40`, preserveAspectRatio: 'none', role: 'img', 'aria-label': c });
      shares[r].forEach((v, b) => {
        let hgt = top > 0 ? (v / top) * 38 : 0;
        if (counts[c][b] > 0 && hgt < 1.5) hgt = 1.5;
        svg.appendChild(s('rect', { x: b * 10 + 0.6, y: 40 - hgt, width: 8.8, height: hgt, style: { fill: color(classes.indexOf(c)) } },
          s('title', { text: `${at(b / bins)}–${at((b + 1) / bins)}: ${fmtCount(counts[c][b])} rows` })));
      });
      if (finite(threshold)) svg.appendChild(s('line', { x1: threshold * bins * 10, x2: threshold * bins * 10, y1: 0, y2: 40, style: { stroke: 'var(--muted)' }, 'stroke-dasharray': '2 2', 'vector-effect': 'non-scaling-stroke' }));
      wrap.appendChild(h('div', { class: 'hrow' }, h('div', { class: 'hl', title: c, text: c }), svg));
    });
    wrap.appendChild(h('div', { class: 'hrow' }, h('div'), h('div', { class: 'hx' }, [0, 0.25, 0.5, 0.75, 1].map((t) => h('span', { text: at(t) })))));
    return wrap;
  }

  /* ---- live tiles ------------------------------------------------------------------------- */
  function pushHistory(arr, v) { arr.push(v); if (arr.length > HISTORY) arr.shift(); }

  async function pollStats() {
    if (document.hidden) return;
    let st;
    try { st = await api('v1/stats'); } catch (e) { return; }
    const lm = st.last_minute || {};
    const ps = lm.per_second || {};
    const whole = (a) => (Array.isArray(a) ? a.slice(0, -1) : []);   // the last second is still filling
    if (finite(st.threshold)) state.threshold = st.threshold;
    setAlertStore(typeof st.alert_store === 'string' ? st.alert_store : null);
    setConn('ok', 'live · up ' + fmtDuration(st.uptime_seconds));

    $('stat-requests').textContent = fmtRate(lm.requests_per_second);
    $('stat-requests-d').textContent = `${fmtCount(lm.requests)} in the last minute · ${fmtCount(st.requests)} total`;
    sparkline($('spark-requests'), [{ values: whole(ps.requests), color: 'var(--c0)', area: true }]);

    $('stat-anomalies').textContent = fmtRate(lm.anomalies_per_second);
    const share = lm.detections ? (100 * lm.anomalies / lm.detections).toFixed(1) + '%' : '–';
    $('stat-anomalies-d').textContent = `${share} of ${fmtCount(lm.detections)} detection${lm.detections === 1 ? '' : 's'} · ${fmtCount(st.anomalies)} total`;
    $('tile-anomalies').classList.toggle('alert', lm.anomalies > 0);
    sparkline($('spark-anomalies'), [{ values: whole(ps.detections), color: 'var(--faint)', dashed: true },
      { values: whole(ps.anomalies), color: 'var(--c1)', area: true }]);

    const lat = lm.latency_ms || {};
    pushHistory(state.lat50, lat.p50); pushHistory(state.lat99, lat.p99);
    $('stat-latency').textContent = fmtMs(lat.p50);
    $('stat-latency-d').textContent = `p99 ${fmtMs(lat.p99)} ms · last minute`;
    sparkline($('spark-latency'), [{ values: state.lat99, color: 'var(--c4)', dashed: true }, { values: state.lat50, color: 'var(--c2)', area: true }]);

    pushHistory(state.mem, st.memory_bytes);
    const [mv, mu] = fmtBytes(st.memory_bytes), [pv, pu] = fmtBytes(st.memory_peak_bytes);
    $('stat-memory').textContent = mv;
    $('stat-memory-unit').textContent = mu;
    $('stat-memory-d').textContent = `peak ${pv} ${pu} · ${fmtCount(st.models_loaded)} model${st.models_loaded === 1 ? '' : 's'}`;
    sparkline($('spark-memory'), [{ values: state.mem, color: 'var(--c5)', area: true }], Math.max(...state.mem.filter(finite)) * 1.15);

    state.modelStats = st.models || {};
    const scored = $('card-scored');
    if (scored) scored.textContent = scoredText(state.modelStats[state.current]);
    // A model reloaded on the server: fetch its card again.
    for (const [name, m] of Object.entries(st.models || {})) {
      const d = state.detail[name];
      if (d && finite(m.generation) && m.generation !== d.generation) {
        delete state.detail[name];
        if (name === state.current) showModel(name, true);
      }
    }
  }

  /* ---- models ------------------------------------------------------------------------------ */
  async function loadModels() {
    const r = await api('v1/models');
    state.models = (r && r.models) || [];
    const sel = clear($('model-select'));
    for (const m of state.models) sel.appendChild(h('option', { value: m.name, text: `${m.name} (${m.family}, ${m.task})` }));
    $('model-pick').hidden = state.models.length < 2;
    if (!state.models.length) {
      clear($('model-card')).appendChild(h('p', { class: 'muted', text: 'No model is loaded.' }));
      return;
    }
    const wanted = decodeURIComponent((location.hash.match(/model=([^&]+)/) || [])[1] || '');
    const names = state.models.map((m) => m.name);
    const name = names.includes(state.current) ? state.current : names.includes(wanted) ? wanted : names[0];
    await showModel(name, false);
  }

  // Detections of one model since the server started, from /v1/stats.
  function scoredText(ms) {
    if (!ms || !finite(ms.detections)) return '–';
    return `${fmtCount(ms.detections)} · ${fmtCount(ms.anomalies)} anomalous`;
  }

  function summary(name) { return state.models.find((m) => m.name === name) || {}; }

  async function showModel(name, keepForm) {
    state.current = name;
    $('model-select').value = name;
    let d = state.detail[name];
    if (!d) {
      try { d = await api('v1/models/' + encodeURIComponent(name)); } catch (e) {
        if (!(e instanceof AuthNeeded)) clear($('model-card')).appendChild(h('p', { class: 'err', text: `Could not load model ${name}: ${e.message}` }));
        return;
      }
      state.detail[name] = d;
    }
    if (!keepForm || !$('fields').querySelector('.field')) renderForm(d);
    renderCard(d);
  }

  $('model-select').addEventListener('change', (ev) => {
    history.replaceState(null, '', '#model=' + encodeURIComponent(ev.target.value));
    showModel(ev.target.value, false);
  });

  /* ---- the scoring form --------------------------------------------------------------------- */
  function renderForm(d) {
    const box = clear($('fields'));
    const ex = d.example || {};
    (d.schema || []).forEach((inp, i) => {
      const id = 'f-' + i, cat = inp.type === 'categorical';
      let control;
      if (cat && Array.isArray(inp.categories) && !inp.categories_truncated) {
        control = h('select', { id, name: inp.name });
        const opts = inp.categories.slice();
        if (ex[inp.name] !== undefined && ex[inp.name] !== null && !opts.includes(ex[inp.name])) opts.unshift(String(ex[inp.name]));
        for (const c of opts) control.appendChild(h('option', { value: c, text: c }));
      } else if (cat) {
        const listId = id + '-list';
        control = h('input', { id, name: inp.name, type: 'text', list: listId, autocomplete: 'off', spellcheck: 'false' });
        box.appendChild(h('datalist', { id: listId }, (inp.categories || []).map((c) => h('option', { value: c }))));
      } else {
        control = h('input', { id, name: inp.name, type: 'number', step: 'any', inputmode: 'decimal' });
      }
      const start = ex[inp.name];
      control.value = start === null || start === undefined ? '' : String(start);
      control.dataset.example = control.value;
      control.dataset.kind = cat ? 'text' : 'number';
      control.addEventListener('input', onFieldChange);
      control.addEventListener('change', onFieldChange);
      box.appendChild(h('div', { class: 'field', 'data-name': inp.name },
        h('label', { for: id, title: inp.name }, h('span', { text: inp.name }), h('span', { class: 't', text: cat ? 'cat' : 'num' })),
        control));
    });
    if (!(d.schema || []).length) box.appendChild(h('p', { class: 'muted', text: 'This model has no input fields.' }));
    const s0 = summary(d.name);
    const what = d.task === 'regression' ? 'the predicted value'
      : s0.positive_class || d.positive_class ? `the probability of ${s0.positive_class || d.positive_class}`
      : `1 − the probability of ${s0.normal_class || d.normal_class || 'the normal class'}`;
    $('score-note').textContent = `${(d.schema || []).length} fields of model ${d.name}, prefilled with a typical record (the training medians and first-seen categories). The score is ${what}.`;
    $('score-btn').disabled = false;
    $('field-filter').value = '';
    updateChanged();
  }

  function onFieldChange(ev) {
    const el = ev.target;
    el.parentElement.classList.toggle('changed', el.value !== el.dataset.example);
    el.parentElement.classList.remove('bad');
    updateChanged();
  }
  function updateChanged() {
    const n = $('fields').querySelectorAll('.field.changed').length;
    $('changed-count').textContent = n ? `${n} field${n === 1 ? '' : 's'} changed from the example` : '';
  }

  $('reset-btn').addEventListener('click', () => {
    for (const el of $('fields').querySelectorAll('input, select')) {
      el.value = el.dataset.example;
      el.parentElement.classList.remove('changed', 'bad');
    }
    updateChanged();
  });

  $('field-filter').addEventListener('input', (ev) => {
    const q = ev.target.value.trim().toLowerCase();
    for (const f of $('fields').querySelectorAll('.field')) f.hidden = q && !f.dataset.name.toLowerCase().includes(q);
  });

  // The record as the server wants it: raw names, numbers as numbers,
  // an empty number as null (the model imputes it). null if a number is bad.
  function readRecord() {
    const rec = {};
    let bad = null;
    for (const el of $('fields').querySelectorAll('input, select')) {
      if (!el.name) continue;
      if (el.dataset.kind === 'number') {
        const t = el.value.trim();
        if (t === '') { rec[el.name] = null; continue; }
        const v = Number(t);
        if (!Number.isFinite(v)) { el.parentElement.classList.add('bad'); bad = bad || el; continue; }
        rec[el.name] = v;
      } else {
        rec[el.name] = el.value;
      }
    }
    if (bad) { bad.focus(); return null; }
    return rec;
  }

  $('score-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = state.current;
    const d = state.detail[name];
    if (!d) return;
    const rec = readRecord();
    if (!rec) { showError('A number field holds something that is not a number.'); return; }
    const btn = $('score-btn');
    btn.disabled = true;
    btn.textContent = 'Scoring…';
    const base = 'v1/detect?model=' + encodeURIComponent(name);
    const canExplain = summary(name).can_explain !== false && d.can_explain !== false;
    let res = null, refused = null;
    const t0 = performance.now();
    try {
      if (canExplain) {
        try { res = await api(base + '&explain=1&top=8', postJSON(rec)); } catch (e) {
          // Explanations refused (4xx): score without them; a bad record
          // fails again below and its message is shown.
          if (e instanceof AuthNeeded || !(e.status >= 400 && e.status < 500)) throw e;
          refused = e.message;
        }
      }
      if (!res) res = await api(base, postJSON(rec));
      renderVerdict(res, d, performance.now() - t0, canExplain ? refused : '');
      pollRecent();
    } catch (e) {
      if (!(e instanceof AuthNeeded)) showError(e.message);
    } finally {
      btn.disabled = false;
      btn.textContent = 'Score record';
    }
  });

  function showError(msg) {
    const v = clear($('verdict'));
    v.className = 'placeholder';
    v.appendChild(h('p', { class: 'err', id: 'verdict-error', text: 'Could not score the record: ' + msg }));
    clear($('why'));
  }

  /* ---- verdict and explanation ----------------------------------------------------------------- */
  function renderVerdict(res, d, ms, refused) {
    const v = clear($('verdict'));
    v.className = '';
    const regression = d.task === 'regression';
    const sm = summary(d.name);
    const anomaly = !!res.anomaly;
    const head = h('div', { class: 'verdict' },
      h('span', { class: 'badge big ' + (anomaly ? 'anomaly' : 'normal'), id: 'verdict-badge', text: anomaly ? 'Anomaly' : regression ? 'Predicted' : 'Normal' }),
      h('div', { class: 'label', id: 'verdict-label', text: regression ? fmtValue(res.label) : res.label }),
      h('div', { class: 'meta' }, regression ? 'predicted value ' : 'score ', h('b', { id: 'verdict-score', text: fmt(res.score, 4) }),
        ` · model ${res.model} · ${fmtMs(ms)} ms round trip`));
    v.appendChild(head);
    if (!regression && finite(res.score)) {
      const thr = state.threshold;
      v.appendChild(h('div', { class: 'gauge' + (anomaly ? ' anomaly' : ''), title: `score ${fmt(res.score, 4)}, threshold ${thr}` },
        h('div', { class: 'fill', style: { width: (Math.min(1, Math.max(0, res.score)) * 100).toFixed(1) + '%' } }),
        h('div', { class: 'thr', style: { left: `calc(${(thr * 100).toFixed(1)}% - 1px)` } })));
      const what = sm.positive_class ? `P(${sm.positive_class})` : `1 − P(${sm.normal_class || 'normal'})`;
      v.appendChild(h('div', { class: 'gauge-legend' }, h('span', { text: '0' }), h('span', { text: `score = ${what} · anomaly at ≥ ${thr}` }), h('span', { text: '1' })));
    }
    const probs = Object.entries(res.probabilities || {});
    if (probs.length > 2) {
      probs.sort((a, b) => b[1] - a[1]);
      v.appendChild(h('div', { class: 'probs' }, probs.map(([c, p], i) => [
        h('span', { text: c }),
        h('div', { class: 't' }, h('div', { class: 'b' + (i === 0 ? ' top' : ''), style: { width: (100 * p).toFixed(1) + '%' } })),
        h('span', { class: 'n', text: (100 * p).toFixed(1) + '%' }),
      ])));
    }
    if (Array.isArray(res.warnings) && res.warnings.length) {
      v.appendChild(h('div', { class: 'warnings' }, h('b', { text: 'Warnings' }),
        h('ul', null, res.warnings.map((w) => h('li', { text: typeof w === 'string' ? w : JSON.stringify(w) })))));
    }
    renderWhy(res, d, refused);
  }

  function renderWhy(res, d, refused) {
    const why = clear($('why'));
    const ex = res.explanation;
    if (!ex || !Array.isArray(ex.top)) {
      why.appendChild(h('div', { class: 'unavailable', id: 'why-unavailable' },
        h('b', { text: 'Explanations are unavailable for this model. ' }),
        refused === '' ? `The ${d.family} family does not compute per-field contributions; the verdict above is the model’s score alone.`
          : refused ? `The server said: ${refused.replace(/\.$/, '')}.` : 'The verdict above is the model’s score alone.'));
      return;
    }
    const sm = summary(d.name);
    const explained = ex.explained;
    // Which way is "toward an anomaly": up, unless the explained class is the normal one.
    const normal = sm.normal_class || (sm.positive_class && (d.classes || []).find((c) => c !== sm.positive_class));
    const upIsBad = explained !== normal;
    const items = ex.top.filter((t) => finite(t.contribution));
    const rest = finite(ex.others) ? ex.others : 0;
    const max = Math.max(1e-12, ...items.map((t) => Math.abs(t.contribution)), Math.abs(rest));
    why.appendChild(h('h3', { text: 'Why' }));
    why.appendChild(h('p', { class: 'sub' }, 'How each field moved the model’s raw score for ', h('b', { text: explained }),
      ` from its baseline. ${upIsBad ? 'Orange' : 'Blue'} raises it, ${upIsBad ? 'blue' : 'orange'} lowers it.`));
    const chart = h('div', { class: 'div-chart', id: 'why-chart' });
    const bar = (c, extra) => {
      const w = (Math.abs(c) / max) * 50;
      const up = c >= 0;
      const tone = up === upIsBad ? 'up' : 'down';
      return h('div', { class: 'track' }, h('div', { class: `bar ${tone} ${extra || ''}`, style: { left: up ? '50%' : `${50 - w}%`, width: `${Math.max(w, 0.4)}%` } }));
    };
    for (const t of items) {
      const val = t.imputed ? 'imputed' : fmtValue(t.value);
      chart.appendChild(h('div', { class: 'f', title: `${t.field} = ${val}` }, t.field, ' ', h('code', { text: '= ' + val })));
      chart.appendChild(bar(t.contribution));
      chart.appendChild(h('div', { class: 'n', text: fmtSigned(t.contribution) }));
    }
    if (rest !== 0) {
      chart.appendChild(h('div', { class: 'f rest', text: 'all other fields' }));
      const b = bar(rest);
      b.classList.add('rest');
      chart.appendChild(h('div', { class: 'rest' }, b));
      chart.appendChild(h('div', { class: 'n rest', text: fmtSigned(rest) }));
    }
    why.appendChild(chart);
    why.appendChild(h('div', { class: 'div-axis' }, h('span'), h('div', { class: 'lr' }, h('span', { text: '← lowers' }), h('span', { text: 'raises →' })), h('span')));
    const listed = items.reduce((a, t) => a + t.contribution, 0);
    why.appendChild(h('div', { class: 'sum', text: `raw score ${fmt(ex.raw_score, 4)} = baseline ${fmt(ex.bias, 4)} ${fmtSigned(listed)} (listed) ${fmtSigned(rest)} (others)` }));
  }

  /* ---- recent detections ------------------------------------------------------------------------ */
  function recordSummary(rec, model) {
    if (!rec || typeof rec !== 'object') return '';
    const ex = (state.detail[model] || {}).example;
    let entries = Object.entries(rec);
    // What differs from the model's typical record says most about a detection.
    if (ex) {
      const differ = entries.filter(([k, v]) => ex[k] === undefined || String(ex[k]) !== String(v));
      if (differ.length) entries = differ;
    }
    return entries.slice(0, 8).map(([k, v]) => `${k}=${fmtValue(v)}`).join('  ') + (entries.length > 8 ? '  …' : '');
  }

  async function pollRecent() {
    if (document.hidden) return;
    let r;
    try { r = await api('v1/detections/recent?limit=40'); } catch (e) { return; }
    let rows = (r && r.detections) || [];
    if ($('only-anomalies').checked) rows = rows.filter((d) => d.anomaly);
    const body = clear(document.querySelector('#recent tbody'));
    if (!rows.length) {
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 7, text: $('only-anomalies').checked ? 'No anomalies among the recent detections.' : 'No detections yet. Score a record, or send some to POST /v1/detect.' })));
      return;
    }
    const first = state.seen.size === 0;
    const seen = new Set();
    for (const d of rows) {
      const key = `${d.time}|${d.model}|${d.score}|${d.label}`;
      seen.add(key);
      const rec = d.record || d.fields;
      const known = state.models.some((m) => m.name === d.model);
      body.appendChild(h('tr', { class: !first && !state.seen.has(key) ? 'fresh' : null },
        h('td', { text: fmtTime(d.time), title: finite(d.time) ? new Date(d.time * 1000).toISOString() : '' }),
        h('td', { text: d.model }),
        h('td', null, h('span', { class: 'badge ' + (d.anomaly ? 'anomaly' : 'normal'), text: d.anomaly ? 'anomaly' : 'normal' })),
        h('td', { text: d.label }),
        h('td', { class: 'num' }, fmt(d.score, 3), h('span', { class: 'scorebar' + (d.anomaly ? ' anomaly' : '') }, h('i', { style: { width: (Math.min(1, Math.max(0, d.score || 0)) * 100).toFixed(0) + '%' } }))),
        h('td', { class: 'rec', title: rec ? JSON.stringify(rec) : '', text: recordSummary(rec, d.model) + (d.truncated ? ' (cut)' : '') }),
        h('td', null, known && rec ? h('button', { class: 'link', type: 'button', title: 'Load this record into the form', onclick: () => loadRecord(d.model, rec), text: 'load' }) : null)));
    }
    state.seen = seen;
  }
  $('only-anomalies').addEventListener('change', pollRecent);

  async function loadRecord(model, rec) {
    if (model !== state.current) await showModel(model, false);
    for (const el of $('fields').querySelectorAll('input, select')) {
      if (!(el.name in rec)) continue;
      const v = rec[el.name];
      if (el.tagName === 'SELECT' && v !== null && ![...el.options].some((o) => o.value === String(v))) el.appendChild(h('option', { value: String(v), text: String(v) }));
      el.value = v === null ? '' : String(v);
      el.parentElement.classList.toggle('changed', el.value !== el.dataset.example);
    }
    updateChanged();
    $('score-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }

  /* ---- the model card --------------------------------------------------------------------------- */
  function renderCard(d) {
    const card = clear($('model-card'));
    const m = d.metrics;
    const sm = summary(d.name);
    card.appendChild(h('div', { class: 'card-head' }, h('h2', { id: 'model-h', text: `Model ${d.name}` }),
      h('span', { class: 'chip', text: d.family }), h('span', { class: 'chip', text: d.task }),
      h('span', { class: 'chip', text: d.can_explain ? 'explains its verdicts' : 'no explanations' })));
    const meta = [['File', d.file], ['Loaded', d.loaded_at ? new Date(d.loaded_at).toLocaleString('en-GB') : '–'], ['Generation', d.generation],
      ['Input fields', (d.schema || []).length]];
    if (d.task !== 'regression') meta.push(['Classes', (d.classes || []).join(', ')]);
    if (sm.positive_class) meta.push(['Positive class', sm.positive_class]);
    if (m && finite(m.train_rows)) meta.push(['Training rows', fmtCount(m.train_rows)]);
    if (m && finite(m.rows)) meta.push(['Evaluated rows', fmtCount(m.rows)]);
    meta.push(['Scored here', scoredText(state.modelStats[d.name]), 'card-scored']);
    card.appendChild(h('dl', { class: 'meta' }, meta.map(([k, v, id]) => h('div', null, h('dt', { text: k }), h('dd', { id, text: v === undefined || v === null ? '–' : v })))));
    if (!m) {
      card.appendChild(h('p', { class: 'muted', text: 'This model file holds no evaluation (it was trained without --test or --split), so there are no metrics to show.' }));
      const imp = importanceBars((d.feature_importance || {}).gain, 12);
      if (imp) card.appendChild(h('div', { class: 'charts' }, h('figure', null, h('figcaption', { text: 'Feature importance (gain share)' }), imp)));
      return;
    }
    const cards = d.task === 'regression'
      ? [['RMSE', m.rmse], ['MAE', m.mae], ['R²', m.r2]]
      : (d.classes || []).length === 2
        ? [['Accuracy', m.accuracy], ['Precision', m.precision], ['Recall', m.recall], ['F1', m.f1], ['False-positive rate', m.fpr], ['ROC-AUC', m.roc_auc], ['PR-AUC', m.pr_auc]]
        : [['Accuracy', m.accuracy], ['Macro F1', m.macro_f1], ['Weighted F1', m.weighted_f1], ['Precision (macro)', m.precision], ['Recall (macro)', m.recall], ['ROC-AUC (macro)', m.roc_auc], ['PR-AUC (macro)', m.pr_auc]];
    card.appendChild(h('p', { class: 'note', text: `Evaluated when the model was trained${finite(m.rows) ? `, on ${fmtCount(m.rows)} held-out rows` : ''}; the figures are stored in the model file.` }));
    card.appendChild(h('div', { class: 'cards', id: 'model-metrics' }, cards.map(([k, v]) => h('div', { class: 'card' }, h('div', { class: 'k', text: k }), h('div', { class: 'v', text: fmt(v, 4) })))));

    const charts = h('div', { class: 'charts' });
    const classes = d.classes || m.classes || [];
    const pc = m.per_class || {};
    const curves = m.curves || {};
    const lines = (kind) => {
      const c = curves[kind];
      if (Array.isArray(c)) return [{ xy: c, color: color(0), name: curves.class || sm.positive_class || classes[1] || '', auc: kind === 'roc' ? m.roc_auc : m.pr_auc }];
      if (c && typeof c === 'object') return Object.keys(c).map((name) => ({ xy: c[name], color: color(classes.indexOf(name)), name, auc: (pc[name] || {})[kind === 'roc' ? 'roc_auc' : 'pr_auc'] }));
      return [];
    };
    const roc = lines('roc'), pr = lines('pr');
    if (roc.length) charts.appendChild(curveChart(roc, { id: 'card-roc', title: 'ROC curve', x: 'False-positive rate', y: 'True-positive rate', diagonal: true, metric: 'AUC' }));
    if (pr.length) {
      let base = null;
      if (Array.isArray(curves.pr) && pc[curves.class] && finite(m.rows) && m.rows > 0) base = pc[curves.class].support / m.rows;
      charts.appendChild(curveChart(pr, { id: 'card-pr', title: 'Precision-recall curve', x: 'Recall', y: 'Precision', baseline: base, metric: 'PR-AUC' }));
    }
    if (Array.isArray(m.confusion_matrix) && classes.length) {
      charts.appendChild(h('figure', { id: 'card-confusion' }, h('figcaption', { text: 'Confusion matrix' }), confusion(classes, m.confusion_matrix),
        h('p', { class: 'note', style: { marginTop: '8px' }, text: 'Rows are true classes, columns predicted ones; percentages are shares of the true class.' })));
    }
    const sh = m.score_histogram;
    if (sh && sh.counts && classes.length) {
      charts.appendChild(h('figure', { id: 'card-scores' }, h('figcaption', { text: 'Score distribution per true class' }),
        histograms(classes, sh.counts, scaledThreshold(sh), sh.range),
        h('p', { class: 'note', style: { marginTop: '6px' }, text: `x: ${sh.score || 'score'}; bar height grows with the square root of the share.` })));
    }
    const imp = importanceBars(((m.feature_importance || d.feature_importance) || {}).gain, 12);
    if (imp) charts.appendChild(h('figure', { id: 'card-importance' }, h('figcaption', { text: 'Feature importance (gain share)' }), imp));
    if (charts.childNodes.length) card.appendChild(charts);
  }

  /* ---- alerts: the store `vigil watch --alerts` writes (vigil serve --alerts) ---------------------- */
  const ALERT_ROWS = 50;
  const alerts = {
    store: undefined,          // path from /v1/stats: undefined = not known yet, null = none
    open: new Set(),           // ids whose raw line is expanded
    seen: new Set(),           // ids already shown (to mark new ones)
    summaryAt: 0, timer: null, typing: null,
  };

  function alertQuery() {
    const q = new URLSearchParams();
    const ent = $('af-entity').value.trim();
    if (ent) q.set('entity', ent);
    if ($('af-label').value) q.set('label', $('af-label').value);
    const sc = $('af-score').value.trim();
    if (sc !== '' && Number.isFinite(Number(sc))) q.set('min_score', sc);
    return q;
  }

  // Called from pollStats with the server's alert_store: shows the panel or
  // the how-to, and starts or stops the polling.
  function setAlertStore(path) {
    if (path === alerts.store) return;
    alerts.store = path;
    const has = typeof path === 'string';
    $('alerts-none').hidden = has;
    $('alerts-body').hidden = !has;
    $('alert-filters').hidden = !has;
    $('alerts-store').hidden = !has;
    $('alerts-store').textContent = has ? path : '';
    clearInterval(alerts.timer);
    alerts.timer = null;
    if (has) {
      pollAlerts(true);
      alerts.timer = setInterval(() => pollAlerts(false), POLL_MS);
    }
  }

  function fmtUtc(unix, withDate) {
    if (!finite(unix)) return '–';
    const iso = new Date(unix * 1000).toISOString();   // YYYY-MM-DDTHH:MM:SS.sssZ
    return withDate ? iso.slice(0, 10) + ' ' + iso.slice(11, 19) : iso.slice(11, 16);
  }
  const baseName = (p) => String(p || '').split('/').pop() || String(p || '');

  async function pollAlerts(force) {
    if (typeof alerts.store !== 'string' || (document.hidden && !force)) return;
    const q = alertQuery();
    try {
      // The counts change slowly; the list is what must feel live.
      if (force || Date.now() - alerts.summaryAt > 3 * POLL_MS) {
        renderAlertSummary(await api('v1/alerts/summary?' + q.toString()));
        alerts.summaryAt = Date.now();
      }
      q.set('limit', String(ALERT_ROWS));
      renderAlerts(await api('v1/alerts?' + q.toString()));
    } catch (e) {
      if (e instanceof AuthNeeded) return;
      const body = clear(document.querySelector('#alerts tbody'));
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 7, class: 'err', text: 'Could not read the alert store: ' + e.message })));
    }
  }

  function renderAlertSummary(sm) {
    const tl = sm.timeline || {};
    const counts = Array.isArray(tl.counts) ? tl.counts : [];
    const bs = finite(tl.bucket_seconds) ? tl.bucket_seconds : 3600;
    const unit = bs >= 86400 ? 'day' : bs === 3600 ? 'hour' : `${Math.round(bs / 60)} min`;
    $('alerts-chart-h').textContent = `Alerts per ${unit}` + (counts.length ? `, ${fmtUtc(tl.start, true).slice(0, 16)} to ${fmtUtc(tl.start + bs * counts.length, true).slice(0, 16)} UTC` : '');
    const svg = clear($('alerts-chart'));
    const n = Math.max(1, counts.length), max = Math.max(1, ...counts);
    svg.setAttribute('viewBox', `0 0 ${n * 10} 60`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.appendChild(s('line', { class: 'base', x1: 0, x2: n * 10, y1: 59.5, y2: 59.5 }));
    counts.forEach((v, i) => {
      const hgt = v > 0 ? Math.max(2, (v / max) * 56) : 1;
      svg.appendChild(s('rect', { class: v > 0 ? null : 'zero', x: i * 10 + 1, y: 60 - hgt, width: 8, height: hgt },
        s('title', { text: `${fmtUtc(tl.start + i * bs, true).slice(0, 16)} UTC: ${fmtCount(v)} alert${v === 1 ? '' : 's'}` })));
    });
    const xs = clear($('alerts-chart-x'));
    if (counts.length) for (const f of [0, 0.5, 1]) xs.appendChild(h('span', { text: fmtUtc(tl.start + f * bs * counts.length, bs >= 86400).slice(0, bs >= 86400 ? 10 : 16) }));
    $('alerts-total').textContent = fmtCount(sm.total);
    $('alerts-total-d').textContent = `${fmtCount(sm.stored)} stored in all` + (finite(sm.last) ? ` · latest ${fmtUtc(sm.last, true)} UTC` : '');
    const chipList = (el, items, onPick, current) => {
      clear(el);
      if (!items || !items.length) { el.appendChild(h('span', { class: 'muted small', text: 'none in the window' })); return; }
      for (const it of items.slice(0, 6)) {
        const key = it.key || '(none)';
        el.appendChild(h('button', { type: 'button', class: current === it.key ? 'on' : null, title: `${key}: ${fmtCount(it.alerts)} alerts, max score ${fmt(it.max_score, 3)}`, onclick: () => onPick(it.key) },
          key, h('b', { text: fmtCount(it.alerts) })));
      }
    };
    chipList($('alerts-entities'), sm.entities, (k) => { $('af-entity').value = $('af-entity').value === k ? '' : k; refilter(); }, $('af-entity').value.trim());
    chipList($('alerts-labels'), sm.labels, (k) => { $('af-label').value = $('af-label').value === k ? '' : k; refilter(); }, $('af-label').value);
    // The label menu keeps every label seen, so a filter never empties it.
    const sel = $('af-label');
    const have = new Set([...sel.options].map((o) => o.value));
    for (const it of sm.labels || []) if (it.key && !have.has(it.key)) sel.appendChild(h('option', { value: it.key, text: it.key }));
  }

  function alertFeatures(top) {
    if (!Array.isArray(top) || !top.length) return h('span', { class: 'muted', text: '–' });
    return top.slice(0, 3).map((t) => h('span', { class: finite(t.contribution) && t.contribution > 0 ? 'up' : null, title: `contribution ${fmtSigned(t.contribution)}` }, String(t.field)));
  }

  function renderAlerts(r) {
    const rows = (r && r.alerts) || [];
    const body = clear(document.querySelector('#alerts tbody'));
    const filtered = alertQuery().toString() !== '';
    if (!rows.length) {
      body.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: 7, text: filtered ? 'No alerts match these filters.' : 'The store holds no alerts yet. They appear here as vigil watch raises them.' })));
      $('alerts-foot').textContent = '';
      return;
    }
    const first = alerts.seen.size === 0;
    const seen = new Set();
    for (const a of rows) {
      seen.add(a.id);
      const open = alerts.open.has(a.id);
      const tr = h('tr', { class: [!first && !alerts.seen.has(a.id) ? 'fresh' : '', open ? 'open' : ''].join(' ').trim() || null, 'data-id': a.id },
        h('td', { text: fmtUtc(a.time, true), title: finite(a.time) ? new Date(a.time * 1000).toString() : '' }),
        h('td', { class: 'src', title: `${a.source}:${a.line}`, text: `${baseName(a.source)}:${a.line}` }),
        h('td', { class: 'ent' }, a.entity ? h('button', { class: 'link', type: 'button', title: 'Show only this entity', text: a.entity, onclick: () => { $('af-entity').value = a.entity; refilter(); } }) : h('span', { class: 'muted', text: '–' })),
        h('td', { class: 'num' }, fmt(a.score, 3), h('span', { class: 'scorebar anomaly' }, h('i', { style: { width: (Math.min(1, Math.max(0, a.score || 0)) * 100).toFixed(0) + '%' } }))),
        h('td', null, h('span', { class: 'badge anomaly', text: a.label })),
        h('td', { class: 'feat' }, alertFeatures(a.top)),
        h('td', null, h('button', { class: 'link', type: 'button', 'aria-expanded': open ? 'true' : 'false', text: open ? 'hide' : 'raw', onclick: () => {
          if (alerts.open.has(a.id)) alerts.open.delete(a.id); else alerts.open.add(a.id);
          renderAlerts(r);
        } })));
      body.appendChild(tr);
      if (open) {
        body.appendChild(h('tr', { class: 'raw' }, h('td', { colspan: 7 },
          h('span', { class: 'meta', text: `#${a.id} · ${a.source} line ${a.line} · model ${a.model} · stored ${fmtUtc(a.created, true)} UTC` }), a.raw)));
      }
    }
    alerts.seen = seen;
    $('alerts-foot').textContent = `Newest ${rows.length}${r.more ? ' (more in the store: narrow the filters or use vigil alerts --db)' : ''} · times in UTC · refreshes every ${POLL_MS / 1000} s`;
  }

  // A new filter shows other rows, not new alerts: nothing to highlight.
  function refilter() { alerts.seen = new Set(); pollAlerts(true); }
  $('alert-filters').addEventListener('submit', (ev) => { ev.preventDefault(); refilter(); });
  for (const id of ['af-entity', 'af-score']) {
    $(id).addEventListener('input', () => { clearTimeout(alerts.typing); alerts.typing = setTimeout(refilter, 300); });
  }
  $('af-label').addEventListener('change', refilter);
  $('af-clear').addEventListener('click', () => {
    $('af-entity').value = ''; $('af-label').value = ''; $('af-score').value = '';
    refilter();
  });

  /* ---- start ------------------------------------------------------------------------------------ */
  async function start() {
    try {
      await loadModels();
    } catch (e) {
      if (!(e instanceof AuthNeeded)) {
        clear($('model-card')).appendChild(h('p', { class: 'err', text: 'Could not load the models: ' + e.message }));
        setConn('down', 'server unreachable');
      }
      setTimeout(() => { if (!state.authOpen) start(); }, 5000);
      return;
    }
    pollStats();
    pollRecent();
    if (!state.started) {
      state.started = true;
      state.statsTimer = setInterval(pollStats, POLL_MS);
      state.recentTimer = setInterval(pollRecent, POLL_MS);
      document.addEventListener('visibilitychange', () => { if (!document.hidden) { pollStats(); pollRecent(); } });
    }
  }
  start();
})();
