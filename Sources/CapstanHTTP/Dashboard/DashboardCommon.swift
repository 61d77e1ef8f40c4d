/// The style sheet and helper script both dashboards share (served by ``DashboardAsset/registerAssets(on:scripts:)``).
///
/// The helpers build the DOM with `createElement` and `textContent` only: no `innerHTML`, so a hostile task ID or
/// commit message shows as text. `Capstan.live` opens an `EventSource` and reports its state in `#live`.
enum DashboardCommon {
    static let css = """
        :root { --fg: #1d2330; --muted: #5d6678; --line: #d9dde5; --bg: #f6f7f9; --ok: #18794e; --warn: #a35200;
          --bad: #b42318; --info: #175cd3; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
        header { display: flex; gap: 1em; align-items: baseline; padding: .6em 1.2em; background: #1d2330; color: #fff; }
        header h1 { font-size: 1.2em; margin: 0; }
        header .meta { color: #c6cbd6; font-size: .9em; }
        main { padding: 1em 1.2em; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .8em 1em; margin-bottom: 1em; }
        h2 { font-size: 1.05em; margin: 0 0 .6em; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .3em .5em; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { color: var(--muted); font-weight: 600; font-size: .9em; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, .mono { font-family: ui-monospace, monospace; font-size: .92em; }
        .badge { display: inline-block; padding: 0 .5em; border-radius: 9px; font-size: .85em; background: #e4e7ec; color: var(--fg); }
        .badge.ok { background: #d1fadf; color: var(--ok); }
        .badge.warn { background: #fef0c7; color: var(--warn); }
        .badge.bad { background: #fee4e2; color: var(--bad); }
        .badge.info { background: #d1e9ff; color: var(--info); }
        .muted { color: var(--muted); }
        .error { color: var(--bad); white-space: pre-wrap; }
        .counts { display: flex; flex-wrap: wrap; gap: .6em; }
        .toolbar { display: flex; gap: .6em; align-items: center; margin-bottom: .6em; flex-wrap: wrap; }
        tr.clickable { cursor: pointer; }
        tr.clickable:hover, tr.selected { background: #eef4ff; }
        pre.tail { background: #10131a; color: #e6e6e6; padding: .6em; max-height: 28em; overflow: auto; white-space: pre-wrap; }
        ol.timeline { list-style: none; padding: 0; margin: 0; }
        ol.timeline li { border-left: 3px solid var(--line); padding: .2em .8em; margin-left: .4em; }
        ol.timeline li.bad { border-color: var(--bad); }
        ol.timeline li.ok { border-color: var(--ok); }
        .panel { border-left: 4px solid var(--warn); background: #fffaeb; padding: .5em .8em; margin: .5em 0; }
        .panel.ok { border-color: var(--ok); background: #ecfdf3; }
        """

    static let script = """
        'use strict';
        window.Capstan = (function () {
          // Builds an element; `text` becomes textContent, never markup.
          function el(tag, options, children) {
            const node = document.createElement(tag);
            const o = options || {};
            if (o.text !== undefined && o.text !== null) node.textContent = String(o.text);
            if (o.cls) node.className = o.cls;
            if (o.title) node.title = String(o.title);
            if (o.href) node.setAttribute('href', String(o.href));
            if (o.data) for (const k of Object.keys(o.data)) node.dataset[k] = String(o.data[k]);
            for (const child of children || []) if (child) node.appendChild(child);
            return node;
          }
          function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
          function cell(text, cls) { return el('td', { text: text, cls: cls }); }
          function badge(text, kind) { return el('span', { text: text, cls: 'badge ' + (kind || '') }); }
          function num(value, digits) {
            if (value === undefined || value === null) return '';
            return Number(value).toFixed(digits === undefined ? 1 : digits).replace(/\\.0+$/, '');
          }
          function time(iso) {
            if (!iso) return '';
            const d = typeof iso === 'number' ? new Date(iso * 1000) : new Date(iso);
            return isNaN(d) ? String(iso) : d.toISOString().replace('T', ' ').replace(/\\.\\d+Z$/, 'Z');
          }
          async function getJSON(url) {
            const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
            const text = await response.text();
            let body = null;
            try { body = JSON.parse(text); } catch (e) { body = null; }
            if (!response.ok) throw new Error((body && (body.error || body.message)) || (response.status + ' ' + text.slice(0, 200)));
            return body;
          }
          function showError(message) {
            const node = document.getElementById('page-error');
            if (node) node.textContent = message || '';
          }
          // Runs `refresh` at most once at a time; calls during a run make one more run afterwards.
          function coalesced(refresh, delay) {
            let running = false, again = false, timer = null;
            async function run() {
              timer = null;
              if (running) { again = true; return; }
              running = true;
              try { await refresh(); showError(''); } catch (e) { showError(String(e && e.message || e)); }
              running = false;
              if (again) { again = false; schedule(); }
            }
            function schedule() { if (!timer) timer = setTimeout(run, delay === undefined ? 150 : delay); }
            return schedule;
          }
          // Opens an EventSource at `url`; `onEvent(parsed)` for each event, `onOpen` after every (re)connect.
          function live(url, onEvent, onOpen) {
            const indicator = document.getElementById('live');
            function mark(text, kind) {
              if (!indicator) return;
              indicator.textContent = text;
              indicator.className = 'badge ' + kind;
              document.body.dataset.live = text;
            }
            const source = new EventSource(url);
            source.onopen = function () { mark('live', 'ok'); if (onOpen) onOpen(); };
            source.onerror = function () { mark('reconnecting', 'warn'); };
            source.onmessage = function (message) {
              let event = null;
              try { event = JSON.parse(message.data); } catch (e) { return; }
              document.body.dataset.events = String(Number(document.body.dataset.events || 0) + 1);
              onEvent(event);
            };
            return source;
          }
          return { el: el, clear: clear, cell: cell, badge: badge, num: num, time: time, getJSON: getJSON,
            coalesced: coalesced, live: live, showError: showError };
        })();
        """
}
