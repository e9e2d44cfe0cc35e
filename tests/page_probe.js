// Injected into a copy of a rendered page by tests/test_book.py: once MathJax has typeset the page,
// measure what does not fit the text column and report it to the parent frame as JSON.
(function () {
  function shown(el) {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.offsetParent !== null && !el.closest("details:not([open])");
  }
  function inScrollBox(el, article, col) {  // inside a box that scrolls sideways and itself fits
    for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if ((ox === "auto" || ox === "scroll") && p.getBoundingClientRect().right <= col.right + 2) return true;
    }
    return false;
  }
  function measure() {
    const article = document.querySelector("article.bd-article") || document.querySelector("main");
    const col = article.getBoundingClientRect();
    const items = (window.MathJax && MathJax.startup && MathJax.startup.document) ? MathJax.startup.document.math : [];
    const out = {viewport: window.innerWidth, page: document.documentElement.scrollWidth,
                 column: Math.round(col.width), math: [], code: [], tables: [], outside: []};
    for (const item of items) {  // display formulas wider than their box (they scroll, or are cut)
      const root = item.typesetRoot;
      if (!item.display || !root || !shown(root)) continue;
      if (root.scrollWidth > root.clientWidth + 1) out.math.push([root.scrollWidth - root.clientWidth, item.math.trim().slice(0, 60)]);
    }
    document.querySelectorAll("article pre").forEach(function (pre) {  // code lines cut off or scrolled
      if (shown(pre) && pre.scrollWidth > pre.clientWidth + 1) {
        const line = pre.textContent.split("\n").reduce((a, b) => (b.length > a.length ? b : a), "");
        out.code.push([pre.scrollWidth - pre.clientWidth, line.slice(0, 80)]);
      }
    });
    document.querySelectorAll("article table").forEach(function (t) {  // tables that need scrolling
      if (shown(t) && t.scrollWidth > t.clientWidth + 1) out.tables.push([t.scrollWidth - t.clientWidth, t.textContent.trim().replace(/\s+/g, " ").slice(0, 60)]);
    });
    out.first_column = [];  // tables led by a ratio column ("RL / CE"): how far right its cells reach
    document.querySelectorAll("article table").forEach(function (t) {
      const head = t.querySelector("th");
      if (!shown(t) || !head || head.textContent.trim() !== "RL / CE") return;
      let right = 0;
      t.querySelectorAll("tr > :first-child").forEach(function (c) { right = Math.max(right, c.getBoundingClientRect().right); });
      out.first_column.push(Math.round(right));
    });
    article.querySelectorAll("img, mjx-container, table, pre, div.cell_output").forEach(function (el) {
      if (!shown(el)) return;
      const r = el.getBoundingClientRect();  // sticking out of the column, not inside a scroll box
      if (r.right > col.right + 2 && !inScrollBox(el, article, col)) {
        let tex = "";
        for (const it of items) if (it.typesetRoot === el) tex = it.math.trim().slice(0, 60);
        out.outside.push([Math.round(r.right - col.right), el.tagName, tex]);
      }
    });
    window.parent.postMessage(JSON.stringify(out), "*");
  }
  window.addEventListener("load", function () {
    const ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) ? MathJax.startup.promise : Promise.resolve();
    ready.then(function () { setTimeout(measure, 200); });
  });
})();
