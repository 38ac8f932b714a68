(function () {
  'use strict';
  // The page reads fully without this script: it only sorts tables and shows a map shape's
  // figure on a tap. data-acterr-js on <html> says it ran (« ok ») or failed (« erreur »).
  var root = document.documentElement;
  window.addEventListener('error', function () { root.setAttribute('data-acterr-js', 'erreur'); });

  function key(cell, numeric) {
    if (!cell) { return null; }
    if (numeric) {
      var v = cell.getAttribute('data-v');
      return v === null || v === '' ? null : parseFloat(v);
    }
    return cell.textContent.trim();
  }

  function sortBy(table, index, header) {
    var body = table.tBodies[0];
    var numeric = header.getAttribute('data-type') === 'num';
    var ascending = header.getAttribute('aria-sort') !== 'ascending';
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index], numeric), y = key(b.cells[index], numeric);
      if (x === null || x === '') { return (y === null || y === '') ? 0 : 1; }  // empty and n.c. last, whichever way
      if (y === null || y === '') { return -1; }
      var c = numeric ? x - y : x.localeCompare(y, 'fr', {sensitivity: 'base', numeric: true});
      return ascending ? c : -c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(header.parentNode.cells, function (th) { th.removeAttribute('aria-sort'); });
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
  }

  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, index) {
      var button = document.createElement('button');
      button.type = 'button';
      while (th.firstChild) { button.appendChild(th.firstChild); }
      button.setAttribute('title', 'Trier selon cette colonne');
      th.appendChild(button);
      button.addEventListener('click', function () { sortBy(table, index, th); });
    });
  });

  var focus = document.getElementById('carte-choix');
  Array.prototype.forEach.call(document.querySelectorAll('svg.map use.shape'), function (path) {
    path.addEventListener('click', function () {
      Array.prototype.forEach.call(document.querySelectorAll('svg.map use.selected'), function (p) { p.classList.remove('selected'); });
      path.classList.add('selected');
      var title = path.querySelector('title');
      if (focus && title) { focus.textContent = title.textContent; }
    });
  });

  // printed, the folded motifs are read too
  window.addEventListener('beforeprint', function () {
    Array.prototype.forEach.call(document.querySelectorAll('details'), function (d) { d.open = true; });
  });

  if (root.getAttribute('data-acterr-js') !== 'erreur') { root.setAttribute('data-acterr-js', 'ok'); }
}());
