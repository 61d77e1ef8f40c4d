import CapstanHTTP

/// The reconciler dashboard's markup and script: every app with its sync and health (as Argo CD shows them), commits
/// and instances; and, for the selected app, why it is not converged and its history as a timeline. It re-reads the
/// status (and the open app's history) when the event stream reports a change.
enum ReconcilerDashboardPage {
    static let html = DashboardAsset.page(
        title: "Capstan GitOps", script: "reconciler.js",
        body: """
            <header><h1>Capstan GitOps</h1><span class="meta" id="repo-info"></span>
            <span id="live" class="badge">connecting</span></header>
            <main>
            <p id="page-error" class="error"></p>
            <section><h2>Git</h2>
            <table id="git"><tbody>
            <tr><th>HEAD</th><td id="head-commit" class="mono"></td></tr>
            <tr><th>Applied</th><td id="applied-commit" class="mono"></td></tr>
            <tr><th>Last sync</th><td id="last-sync"></td></tr></tbody></table>
            <div id="sync-error" class="panel" hidden><strong>Not applied: </strong><span id="sync-error-text"></span>
            <ul id="diagnostics" class="mono"></ul></div></section>
            <section><h2>Apps</h2>
            <table id="apps"><thead><tr><th>App</th><th>Kind</th><th>Sync</th><th>Health</th><th>Phase</th>
            <th>Desired commit</th><th>Running commit</th><th class="num">Instances</th><th class="num">Healthy</th>
            <th>Why not converged</th></tr></thead><tbody></tbody></table></section>
            <section id="app-detail" hidden><h2>App <span id="detail-name" class="mono"></span></h2>
            <div id="why" class="panel"><strong>Why not converged: </strong><span id="why-text"></span>
            <div id="why-failure" class="muted"></div></div>
            <h2>Timeline</h2><ol id="timeline" class="timeline"></ol></section>
            </main>
            """)

    static let script = """
        'use strict';
        (function () {
          const C = window.Capstan;
          let selected = decodeURIComponent((location.hash.match(/^#app=(.*)$/) || [])[1] || '') || null;
          let lastDocument = null;
          const kinds = { Synced: 'ok', OutOfSync: 'warn', Healthy: 'ok', Progressing: 'info', Degraded: 'bad',
            Missing: 'bad', Failed: 'bad', Unknown: '' };
          const eventKinds = { converged: 'ok', failed: 'bad', degraded: 'bad', invalidCommit: 'bad', reverted: 'bad' };

          function render(doc) {
            lastDocument = doc;
            const s = doc.status;
            document.getElementById('repo-info').textContent = s.repo + ' @ ' + s.revision;
            document.getElementById('head-commit').textContent = s.headCommit || '';
            document.getElementById('applied-commit').textContent = s.appliedCommit || '';
            document.getElementById('last-sync').textContent = C.time(s.lastSync);
            const errorPanel = document.getElementById('sync-error');
            errorPanel.hidden = !s.error;
            document.getElementById('sync-error-text').textContent = s.error || '';
            const diagnostics = C.clear(document.getElementById('diagnostics'));
            for (const line of s.diagnostics || []) diagnostics.appendChild(C.el('li', { text: line }));
            const body = C.clear(document.querySelector('#apps tbody'));
            for (const app of s.apps) {
              const columns = doc.columns[app.name] || { sync: 'Unknown', health: 'Unknown' };
              const row = C.el('tr', { cls: 'clickable' + (app.name === selected ? ' selected' : ''), data: { app: app.name } }, [
                C.el('td', { text: app.name, cls: 'mono' }), C.cell(app.kind),
                C.el('td', { data: { col: 'sync' } }, [C.badge(columns.sync, kinds[columns.sync])]),
                C.el('td', { data: { col: 'health' } }, [C.badge(columns.health, kinds[columns.health])]),
                C.el('td', { data: { col: 'phase' } }, [C.badge(app.phase, kinds[app.phase]),
                  app.suspended ? C.badge('suspended', 'warn') : null,
                  app.pinned ? C.badge('pinned ' + app.pinned, 'warn') : null]),
                C.cell(app.desiredCommit || '', 'mono'), C.cell(app.runningCommit || '', 'mono'),
                C.el('td', { cls: 'num', text: app.runningInstances + '/' + app.desiredInstances, data: { col: 'instances' } }),
                C.el('td', { cls: 'num', text: String(app.healthyInstances), data: { col: 'healthy' } }),
                C.el('td', { text: app.reason || '', data: { col: 'reason' } })]);
              row.addEventListener('click', function () { select(app.name); });
              body.appendChild(row);
            }
            renderWhy();
          }

          function selectedApp() {
            if (!lastDocument || !selected) return null;
            return lastDocument.status.apps.find(function (a) { return a.name === selected; }) || null;
          }

          function renderWhy() {
            const detail = document.getElementById('app-detail');
            const app = selectedApp();
            detail.hidden = !selected;
            if (!selected) return;
            document.getElementById('detail-name').textContent = selected;
            const why = document.getElementById('why');
            const s = lastDocument ? lastDocument.status : {};
            let text;
            if (!app) text = 'not in the status (removed from git, or not applied yet)';
            else if (app.phase === 'Synced' && !s.error) text = 'converged: ' + app.runningInstances + '/' + app.desiredInstances + ' at ' + (app.desiredCommit || '');
            else text = app.reason || s.error || app.phase;
            if (app && s.error && app.phase === 'Synced') text += ' (but HEAD is not applied: ' + s.error + ')';
            why.className = 'panel' + (app && app.phase === 'Synced' && !s.error ? ' ok' : '');
            document.getElementById('why-text').textContent = text;
          }

          function renderHistory(entries) {
            const list = C.clear(document.getElementById('timeline'));
            let failure = null;
            for (const entry of entries) {
              if (!failure && eventKinds[entry.event] === 'bad') failure = entry;
              list.appendChild(C.el('li', { cls: eventKinds[entry.event] || '', data: { event: entry.event } }, [
                C.el('span', { text: C.time(entry.time) + ' ', cls: 'muted' }), C.badge(entry.event, eventKinds[entry.event]),
                C.el('span', { text: ' ' + entry.commit + ' ', cls: 'mono' }), C.el('span', { text: entry.message })]));
            }
            document.getElementById('why-failure').textContent =
              failure ? 'Last problem (' + C.time(failure.time) + ', ' + failure.event + ' at ' + failure.commit + '): ' + failure.message : '';
          }

          async function loadStatus() { render(await C.getJSON('/api/v1/dashboard')); }
          async function loadHistory() {
            if (!selected) return;
            const page = await C.getJSON('/api/v1/history/' + encodeURIComponent(selected) + '?limit=50');
            renderHistory(page.entries || []);
          }
          const refreshStatus = C.coalesced(loadStatus, 100);
          const refreshHistory = C.coalesced(loadHistory, 200);

          function select(name) {
            selected = name;
            history.replaceState(null, '', '#app=' + encodeURIComponent(name));
            for (const row of document.querySelectorAll('#apps tbody tr')) row.classList.toggle('selected', row.dataset.app === name);
            C.clear(document.getElementById('timeline'));
            renderWhy();
            refreshHistory();
          }

          refreshStatus();
          refreshHistory();
          C.live('/api/v1/events', function (event) {
            if (!event || event.type !== 'STATUS_CHANGED') return;
            refreshStatus();
            if (selected) refreshHistory();
          }, function () { refreshStatus(); refreshHistory(); });
        })();
        """
}
