// lmc report: draws the charts of the page from the JSON in #lmc-data (written by src/train/report.c).
// One chart per metric key; a key val_X (or val/X) is the validation split of chart X. Colour per run,
// solid = train, dashed = val. EMA smoothing as TensorBoard does it (debiased), raw line faint behind.
// The y axis spans every point of every series (lo/hi come from C over all points, also those thinned
// out of the page); log-y only where all values are > 0. Embedded into the binary at build time.
// Data mixtures (data.sources): mix/<source>/<what> is drawn in chart mix/<what> (weight, tokens, epoch,
// ...) and train/<source>/loss, val/<source>/loss in chart loss/source, one colour per source. With
// several runs the colour stays the run's and each source gets a dash pattern instead (the losses then
// go to two charts, loss/source (train) and loss/source (val)).
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('lmc-data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  var W = 470, H = 270, ML = 64, MR = 14, MT = 10, MB = 36;
  var PW = W - ML - MR, PH = H - MT - MB;
  var PREF = ['loss', 'lr', 'grad_norm', 'tokens_per_s', 'mfu'];
  var XLABEL = {step: 'step', tokens: 'tokens', wall: 'wall clock'};
  var state = {smooth: 0.6, logy: false, x: 'step'};

  var SRC_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
  var SRC_DASH = ['none', '7 3', '2 2', '10 3 2 3', '4 4', '1 3', '12 4', '6 2 2 2'];
  var sources = [], multi = D.runs.length > 1;
  function splitOf(key) {
    var m = /^mix\/([^\/]+)\/(.+)$/.exec(key);
    if (m) return {chart: 'mix/' + m[2], split: 'train', source: m[1]};
    m = /^(train|val)\/([^\/]+)\/loss$/.exec(key);
    if (m) return {chart: multi ? 'loss/source (' + m[1] + ')' : 'loss/source', split: m[1], source: m[2]};
    m = /^val[_\/](.+)$/.exec(key);
    return m ? {chart: m[1], split: 'val'} : {chart: key, split: 'train'};
  }
  var groups = {}, order = [];
  D.runs.forEach(function (run, ri) {
    Object.keys(run.series).forEach(function (key) {
      var s = splitOf(key);
      if (!groups[s.chart]) { groups[s.chart] = []; order.push(s.chart); }
      if (s.source && sources.indexOf(s.source) < 0) sources.push(s.source);
      groups[s.chart].push({run: ri, key: key, split: s.split, source: s.source, d: run.series[key]});
    });
  });
  // a source's lines share a colour (the run's colour otherwise)
  function colorOf(l) {
    return l.source && !multi ? SRC_COLORS[sources.indexOf(l.source) % SRC_COLORS.length] : D.runs[l.run].color;
  }
  function dashOf(l) {
    if (l.source && multi) return SRC_DASH[sources.indexOf(l.source) % SRC_DASH.length];
    return l.split === 'val' ? '6 3' : 'none';
  }
  function labelOf(l) {
    return D.runs[l.run].name + (l.source ? ' ' + l.source : '') + ' ' + l.split;
  }
  function rank(k) { var i = PREF.indexOf(k); return i < 0 ? PREF.length : i; }
  order.sort(function (a, b) { return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0); });
  order.forEach(function (k) {
    groups[k].sort(function (a, b) {
      return a.run - b.run || sources.indexOf(a.source) - sources.indexOf(b.source) ||
             (a.split === b.split ? 0 : a.split === 'train' ? -1 : 1);
    });
  });

  function el(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var a in attrs) e.setAttribute(a, attrs[a]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return '-';
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3).replace(/\.?0+e/, 'e');
    return String(+v.toPrecision(5));
  }
  function fmtDur(s) {
    if (!isFinite(s)) return '-';
    if (s < 60) return (+s.toPrecision(3)) + 's';
    var m = Math.floor(s / 60), h = Math.floor(m / 60), r = Math.round(s - 60 * m);
    if (h) return h + 'h' + ('0' + (m - 60 * h)).slice(-2) + 'm';
    return m + 'm' + ('0' + r).slice(-2) + 's';
  }
  function fmtX(v) { return state.x === 'wall' ? fmtDur(v) : fmt(v); }
  function niceStep(span, want) {
    if (!(span > 0)) return 1;
    var raw = span / want, mag = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10)), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
  }
  function linTicks(lo, hi, want) {
    var st = niceStep(hi - lo, want), out = [];
    for (var v = Math.ceil(lo / st) * st; v <= hi + st * 1e-9 && out.length < 30; v += st)
      out.push(Math.abs(v) < st * 1e-9 ? 0 : v);
    return out;
  }
  function logTicks(lo, hi) {
    var out = [], a = Math.floor(Math.log(lo) / Math.LN10), b = Math.ceil(Math.log(hi) / Math.LN10);
    var mult = b - a <= 2 ? [1, 2, 5] : [1];
    for (var e = a; e <= b && out.length < 40; e++)
      mult.forEach(function (m) { var v = m * Math.pow(10, e); if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v); });
    if (out.length < 2) { out = [lo, hi]; }
    return out;
  }
  // TensorBoard's smoothing: an EMA debiased by 1 - w^n (n = finite values seen so far).
  function smooth(y, w) {
    var out = new Array(y.length), last = 0, n = 0;
    for (var i = 0; i < y.length; i++) {
      var v = y[i];
      if (v === null || !isFinite(v)) { out[i] = null; continue; }
      last = last * w + (1 - w) * v;
      n++;
      out[i] = w > 0 ? last / (1 - Math.pow(w, n)) : v;
    }
    return out;
  }
  function nearest(xs, x) { // xs ascending (nulls skipped): index of the closest value
    var best = -1, bd = Infinity;
    var lo = 0, hi = xs.length - 1;
    while (hi - lo > 8) { var mid = (lo + hi) >> 1; if (xs[mid] === null || xs[mid] < x) lo = mid; else hi = mid; }
    for (var i = Math.max(0, lo - 8); i <= Math.min(xs.length - 1, hi + 8); i++)
      if (xs[i] !== null && Math.abs(xs[i] - x) < bd) { bd = Math.abs(xs[i] - x); best = i; }
    return best;
  }

  var chartsDiv = document.getElementById('charts');
  function draw() {
    while (chartsDiv.firstChild) chartsDiv.removeChild(chartsDiv.firstChild);
    order.forEach(function (key) { drawChart(key, groups[key]); });
  }

  function drawChart(key, lines) {
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('data-key', key);
    var title = document.createElement('div');
    title.className = 'title';
    title.textContent = key;
    box.appendChild(title);
    // ranges: x over every point shown, y over every point (lo/hi from C)
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity, minPos = Infinity, nonPos = false;
    lines.forEach(function (l) {
      var xs = l.d[state.x], ys = l.d.y;
      for (var i = 0; i < xs.length; i++) {
        if (xs[i] === null || ys[i] === null) continue;
        if (xs[i] < x0) x0 = xs[i];
        if (xs[i] > x1) x1 = xs[i];
        if (ys[i] > 0 && ys[i] < minPos) minPos = ys[i];
      }
      if (l.d.lo !== null) { y0 = Math.min(y0, l.d.lo); if (l.d.lo <= 0) nonPos = true; else minPos = Math.min(minPos, l.d.lo); }
      if (l.d.hi !== null) y1 = Math.max(y1, l.d.hi);
    });
    var svg = el('svg', {width: W, height: H, viewBox: '0 0 ' + W + ' ' + H});
    box.appendChild(svg);
    var legend = document.createElement('div');
    legend.className = 'legend';
    var readout = document.createElement('div');
    readout.className = 'readout';
    if (!(x1 >= x0) || !(y1 >= y0)) {
      el('text', {x: W / 2, y: H / 2, 'text-anchor': 'middle'}, svg).textContent = 'no data on this x axis';
      box.appendChild(legend);
      box.appendChild(readout);
      chartsDiv.appendChild(box);
      return;
    }
    var log = state.logy && !nonPos && y1 > 0;
    if (state.logy && !log) {
      var note = document.createElement('div');
      note.className = 'note';
      note.textContent = 'linear: some values are <= 0';
      box.insertBefore(note, svg);
    }
    if (x1 === x0) { x0 -= 0.5; x1 += 0.5; }
    var ly0, ly1;
    if (log) {
      ly0 = Math.log(minPos) / Math.LN10; ly1 = Math.log(y1) / Math.LN10;
      if (ly1 === ly0) { ly0 -= 0.1; ly1 += 0.1; }
      var lp = (ly1 - ly0) * 0.04; ly0 -= lp; ly1 += lp;
    } else {
      if (y1 === y0) { var p0 = Math.abs(y0) > 0 ? Math.abs(y0) * 0.05 : 1; y0 -= p0; y1 += p0; }
      else { var pd = (y1 - y0) * 0.04; y0 -= pd; y1 += pd; }
    }
    function PX(v) { return ML + (v - x0) / (x1 - x0) * PW; }
    function PY(v) {
      if (log) return MT + PH - (Math.log(v) / Math.LN10 - ly0) / (ly1 - ly0) * PH;
      return MT + PH - (v - y0) / (y1 - y0) * PH;
    }
    el('rect', {x: ML, y: MT, width: PW, height: PH, fill: 'none', stroke: '#999'}, svg);
    var yt = log ? logTicks(Math.pow(10, ly0), Math.pow(10, ly1)) : linTicks(y0, y1, 5);
    yt.forEach(function (v) {
      var y = PY(v);
      el('line', {x1: ML, x2: ML + PW, y1: y, y2: y, stroke: '#e6e6e6'}, svg);
      el('text', {x: ML - 5, y: y + 4, 'text-anchor': 'end'}, svg).textContent = fmt(v);
    });
    var xt = state.x === 'wall' ? linTicks(x0, x1, 5) : linTicks(x0, x1, 6);
    xt.forEach(function (v) {
      var x = PX(v);
      el('line', {x1: x, x2: x, y1: MT, y2: MT + PH, stroke: '#e6e6e6'}, svg);
      el('text', {x: x, y: MT + PH + 15, 'text-anchor': 'middle'}, svg).textContent = fmtX(v);
    });
    el('text', {x: ML + PW / 2, y: H - 4, 'text-anchor': 'middle'}, svg).textContent = XLABEL[state.x];
    var g = el('g', {}, svg);
    lines.forEach(function (l) {
      var xs = l.d[state.x], ys = l.d.y, color = colorOf(l);
      l.sm = smooth(ys, state.smooth);
      var dash = dashOf(l);
      function path(vals) {
        var d = '', pen = false;
        for (var i = 0; i < xs.length; i++) {
          var v = vals[i];
          if (xs[i] === null || v === null || (log && !(v > 0))) { pen = false; continue; }
          d += (pen ? 'L' : 'M') + PX(xs[i]).toFixed(1) + ' ' + PY(v).toFixed(1);
          pen = true;
        }
        return d;
      }
      el('path', {d: path(ys), fill: 'none', stroke: color, 'stroke-width': 1, 'stroke-opacity': state.smooth > 0 ? 0.25 : 1,
                  'stroke-dasharray': dash, 'class': 'raw'}, g);
      if (state.smooth > 0)
        el('path', {d: path(l.sm), fill: 'none', stroke: color, 'stroke-width': 1.8, 'stroke-dasharray': dash, 'class': 'smoothed'}, g);
      if (xs.length <= 60)
        for (var i = 0; i < xs.length; i++)
          if (xs[i] !== null && ys[i] !== null && (!log || ys[i] > 0))
            el('circle', {cx: PX(xs[i]).toFixed(1), cy: PY(ys[i]).toFixed(1), r: 2.2, fill: color, 'fill-opacity': 0.6}, g);
      var le = document.createElement('span');
      le.className = 'le';
      var sw = el('svg', {width: 26, height: 8});
      el('line', {x1: 1, x2: 25, y1: 4, y2: 4, stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash}, sw);
      le.appendChild(sw);
      le.appendChild(document.createTextNode(' ' + labelOf(l) + (l.split === 'val' ? ' (' + l.key + ')' : '')));
      legend.appendChild(le);
    });
    // hover: a rule at the mouse, a marker on each line's nearest point, the values below the chart
    var rule = el('line', {y1: MT, y2: MT + PH, stroke: '#555', 'stroke-width': 0.7, visibility: 'hidden'}, svg);
    var marks = el('g', {}, svg);
    svg.addEventListener('mousemove', function (ev) {
      var r = svg.getBoundingClientRect(), mx = ev.clientX - r.left;
      if (mx < ML || mx > ML + PW) return;
      var xv = x0 + (mx - ML) / PW * (x1 - x0);
      rule.setAttribute('x1', mx);
      rule.setAttribute('x2', mx);
      rule.setAttribute('visibility', 'visible');
      while (marks.firstChild) marks.removeChild(marks.firstChild);
      var text = [];
      lines.forEach(function (l) {
        var xs = l.d[state.x], i = nearest(xs, xv);
        if (i < 0 || l.d.y[i] === null) return;
        var v = l.d.y[i];
        if (!log || v > 0) el('circle', {cx: PX(xs[i]), cy: PY(v), r: 3.5, fill: 'none', stroke: colorOf(l), 'stroke-width': 1.5}, marks);
        var t = labelOf(l) + ': step ' + fmt(l.d.step[i]);
        if (state.x !== 'step') t += ', ' + XLABEL[state.x] + ' ' + fmtX(xs[i]);
        t += '  value ' + fmt(v);
        if (state.smooth > 0 && l.sm[i] !== null) t += '  smoothed ' + fmt(l.sm[i]);
        text.push(t);
      });
      readout.textContent = text.join('\n');
    });
    svg.addEventListener('mouseleave', function () {
      rule.setAttribute('visibility', 'hidden');
      while (marks.firstChild) marks.removeChild(marks.firstChild);
    });
    box.appendChild(legend);
    box.appendChild(readout);
    chartsDiv.appendChild(box);
  }

  var sl = document.getElementById('smooth'), sv = document.getElementById('smooth-v');
  sl.addEventListener('input', function () { state.smooth = +sl.value; sv.textContent = state.smooth.toFixed(2); draw(); });
  document.getElementById('logy').addEventListener('change', function (e) { state.logy = e.target.checked; draw(); });
  Array.prototype.forEach.call(document.querySelectorAll('input[name=xaxis]'), function (r) {
    r.addEventListener('change', function () { if (r.checked) { state.x = r.value; draw(); } });
  });
  state.smooth = +sl.value;
  draw();
})();
