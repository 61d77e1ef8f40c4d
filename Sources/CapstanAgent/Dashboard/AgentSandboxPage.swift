import CapstanHTTP
import Hummingbird

/// The agent's sandbox browser (`GET /sandbox?path=…&task=…`), which the master dashboard links each task to: it
/// lists the sandbox through `/files/browse` and tails a file (stdout by default) by reading `/files/read` from the
/// last offset once a second. It is served by the agent so that it reads the files API from its own origin.
enum AgentSandboxPage {
    static func register(on router: Router<BasicRequestContext>) {
        router.get("sandbox") { _, _ in DashboardAsset.html(html) }
        DashboardAsset.registerAssets(on: router, scripts: ["sandbox.js": script])
    }

    static let html = DashboardAsset.page(
        title: "Capstan sandbox", script: "sandbox.js",
        body: """
            <header><h1>Sandbox</h1><span class="meta" id="sandbox-task"></span><span id="live" class="badge">tailing</span></header>
            <main>
            <p id="page-error" class="error"></p>
            <section><h2 id="sandbox-path" class="mono"></h2>
            <table id="files"><thead><tr><th>Name</th><th class="num">Size</th><th>Modified</th><th></th></tr></thead>
            <tbody></tbody></table></section>
            <section><h2>Tail: <span id="tail-name" class="mono"></span></h2><pre id="tail" class="tail"></pre></section>
            </main>
            """)

    static let script = """
        'use strict';
        (function () {
          const C = window.Capstan;
          const params = new URLSearchParams(location.search);
          let dir = params.get('path') || '';
          const tail = { path: null, offset: 0, timer: null };
          document.getElementById('sandbox-task').textContent = params.get('task') || '';

          async function browse(path) {
            dir = path;
            document.getElementById('sandbox-path').textContent = path;
            const entries = await C.getJSON('/files/browse?path=' + encodeURIComponent(path));
            const body = C.clear(document.querySelector('#files tbody'));
            if (path !== (params.get('path') || '')) {
              const up = C.el('a', { text: '..', href: '#' });
              up.addEventListener('click', function (e) { e.preventDefault(); browse(path.replace(/\\/[^\\/]*$/, '')).catch(fail); });
              body.appendChild(C.el('tr', {}, [C.el('td', {}, [up]), C.cell(''), C.cell(''), C.cell('')]));
            }
            for (const entry of entries) {
              const name = entry.path.split('/').pop();
              const isDir = String(entry.mode || '').startsWith('d');
              const link = C.el('a', { text: name + (isDir ? '/' : ''), href: '#' });
              link.addEventListener('click', function (e) {
                e.preventDefault();
                (isDir ? browse(entry.path) : startTail(entry.path)).catch(fail);
              });
              body.appendChild(C.el('tr', { data: { file: name } }, [C.el('td', {}, [link]), C.cell(entry.size, 'num'),
                C.cell(C.time(entry.mtime)), C.cell('')]));
            }
            return entries;
          }

          async function startTail(path) {
            if (tail.timer) clearTimeout(tail.timer);
            tail.path = path;
            document.getElementById('tail-name').textContent = path.split('/').pop();
            C.clear(document.getElementById('tail'));
            const end = await C.getJSON('/files/read?offset=-1&path=' + encodeURIComponent(path));
            tail.offset = Math.max(0, end.offset - 65536);
            await poll();
          }

          async function poll() {
            const path = tail.path;
            try {
              const chunk = await C.getJSON('/files/read?length=65536&offset=' + tail.offset + '&path=' + encodeURIComponent(path));
              if (path !== tail.path) return;
              if (chunk.data.length > 0) {
                tail.offset = chunk.offset + new TextEncoder().encode(chunk.data).length;
                const pre = document.getElementById('tail');
                pre.appendChild(document.createTextNode(chunk.data));
                if (pre.textContent.length > 400000) pre.textContent = pre.textContent.slice(-200000);
                pre.scrollTop = pre.scrollHeight;
              }
              C.showError('');
            } catch (e) { fail(e); }
            if (path === tail.path) tail.timer = setTimeout(poll, chunkDelay());
          }
          function chunkDelay() { return 1000; }
          function fail(e) { C.showError(String(e && e.message || e)); }

          browse(dir).then(function (entries) {
            const stdout = entries.find(function (e) { return e.path.endsWith('/stdout'); });
            if (stdout) return startTail(stdout.path);
          }).catch(fail);
        })();
        """
}
