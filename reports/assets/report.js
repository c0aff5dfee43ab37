// report.html's filters. Plain ES5, no dependencies. Any exception leaves every
// case visible and records itself on <body data-js-error>.
(function () {
  'use strict';
  var body = document.body;
  var form = document.getElementById('filters');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#case-table tbody.case'));
  try {
    var shown = document.getElementById('shown-count');
    var info = rows.map(function (r) {
      var head = r.querySelector('tr.row');
      return {
        verdict: r.getAttribute('data-verdict') || '',
        level: r.getAttribute('data-level') || '',
        role: r.getAttribute('data-role') || '',
        sections: JSON.parse(r.getAttribute('data-sections') || '[]'),
        text: (head ? head.textContent : r.textContent).toLowerCase()
      };
    });
    var boxes = function (name) {
      return Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox][name="' + name + '"]'));
    };
    var picked = function (name) {
      var set = {};
      boxes(name).forEach(function (b) { if (b.checked) set[b.value] = true; });
      return set;
    };
    var apply = function () {
      var verdicts = picked('verdict'), levels = picked('level');
      var role = form.elements.role.value, section = form.elements.section.value;
      var q = form.elements.q.value.replace(/^\s+|\s+$/g, '').toLowerCase();
      var n = 0;
      rows.forEach(function (r, i) {
        var c = info[i];
        var ok = verdicts[c.verdict] === true && levels[c.level] === true &&
          (role === '' || c.role === role) &&
          (section === '' || c.sections.indexOf(section) >= 0) &&
          (q === '' || c.text.indexOf(q) >= 0);
        r.hidden = !ok;
        if (ok) n += 1;
      });
      shown.textContent = n + ' of ' + rows.length + ' cases shown';
      shown.setAttribute('data-shown', String(n));
    };
    var encode = function () {
      var parts = [];
      ['verdict', 'level'].forEach(function (name) {
        var all = boxes(name), on = all.filter(function (b) { return b.checked; });
        if (on.length !== all.length) {
          parts.push(name + '=' + on.map(function (b) { return encodeURIComponent(b.value); }).join(','));
        }
      });
      ['role', 'section', 'q'].forEach(function (name) {
        var v = form.elements[name].value;
        if (v !== '') parts.push(name + '=' + encodeURIComponent(v));
      });
      return parts.join('&');
    };
    var remember = function () {
      try {
        var state = encode();
        history.replaceState(null, '', state === '' ? location.pathname + location.search : '#' + state);
      } catch (ignored) { /* a browser that refuses replaceState keeps working without it */ }
    };
    var restore = function () {
      var hash = location.hash.replace(/^#/, '');
      if (hash.indexOf('=') < 0) return;
      hash.split('&').forEach(function (kv) {
        var at = kv.indexOf('=');
        if (at < 0) return;
        var key, value;
        try {
          key = decodeURIComponent(kv.slice(0, at));
          value = decodeURIComponent(kv.slice(at + 1));
        } catch (malformed) { return; }
        if (key === 'verdict' || key === 'level') {
          var want = {};
          value.split(',').forEach(function (v) { want[v] = true; });
          boxes(key).forEach(function (b) { b.checked = want[b.value] === true; });
        } else if (key === 'role' || key === 'section') {
          var select = form.elements[key];
          select.value = value;
          if (select.value !== value) select.value = '';
        } else if (key === 'q') {
          form.elements.q.value = value;
        }
      });
    };
    var preset = function (verdicts) {
      boxes('verdict').forEach(function (b) { b.checked = verdicts === null || verdicts.indexOf(b.value) >= 0; });
      if (verdicts === null) {
        boxes('level').forEach(function (b) { b.checked = true; });
        form.elements.role.value = '';
        form.elements.section.value = '';
        form.elements.q.value = '';
      }
      apply();
      remember();
    };
    restore();
    form.addEventListener('change', function () { apply(); remember(); });
    form.addEventListener('input', function () { apply(); remember(); });
    form.addEventListener('submit', function (e) { e.preventDefault(); });
    document.getElementById('filter-problems').addEventListener('click', function () {
      preset(['fail', 'warn', 'error', 'flaky', 'inconclusive']);
    });
    document.getElementById('filter-reset').addEventListener('click', function () { preset(null); });
    var reopen = [];
    window.addEventListener('beforeprint', function () {
      reopen = Array.prototype.slice.call(document.querySelectorAll('details:not([open])'));
      reopen.forEach(function (d) { d.open = true; });
    });
    window.addEventListener('afterprint', function () {
      reopen.forEach(function (d) { d.open = false; });
      reopen = [];
    });
    apply();
    form.hidden = false;
    body.setAttribute('data-js-ok', '1');
  } catch (e) {
    rows.forEach(function (r) { r.hidden = false; });
    if (form) form.hidden = true;
    body.setAttribute('data-js-ok', '0');
    body.setAttribute('data-js-error', String(e && e.message ? e.message : e));
  }
})();
