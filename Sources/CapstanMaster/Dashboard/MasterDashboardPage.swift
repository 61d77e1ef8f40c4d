import CapstanHTTP

/// The master dashboard's markup and script. The markup is static; the script fills it from the dashboard API and
/// re-reads the summary and the current task page when the event stream reports a change.
enum MasterDashboardPage {
    static let html = DashboardAsset.page(
        title: "Capstan master", script: "master.js",
        body: """
            <header><h1>Capstan master</h1><span class="meta" id="master-info"></span>
            <span id="live" class="badge">connecting</span></header>
            <main>
            <p id="page-error" class="error"></p>
            <section><h2>Resources</h2>
            <table id="resources"><thead><tr><th></th><th class="num">CPUs</th><th class="num">GPUs</th>
            <th class="num">Mem (MiB)</th><th class="num">Disk (MiB)</th></tr></thead><tbody></tbody></table>
            <h2>Tasks by state</h2><div id="task-counts" class="counts"></div></section>
            <section><h2>Agents</h2>
            <table id="agents"><thead><tr><th>Host</th><th>ID</th><th>State</th><th class="num">CPUs used/total</th>
            <th class="num">Mem used/total</th><th class="num">Disk used/total</th><th class="num">GPUs</th>
            <th class="num">Offered CPUs</th><th class="num">Idle CPUs</th><th>Attributes</th><th>Volumes</th><th>Other resources</th></tr></thead>
            <tbody></tbody></table></section>
            <section><h2>Frameworks</h2>
            <table id="frameworks"><thead><tr><th>Name</th><th>ID</th><th>Role</th><th>State</th>
            <th class="num">Active tasks</th><th>Web UI</th></tr></thead><tbody></tbody></table></section>
            <section><h2>Tasks</h2>
            <div class="toolbar">
            <label>Show <select id="task-state">
            <option value="active">Active</option><option value="completed">Completed</option><option value="all">All</option>
            <option value="TASK_RUNNING">Running</option><option value="TASK_STAGING">Staging</option>
            <option value="TASK_FAILED">Failed</option><option value="TASK_FINISHED">Finished</option>
            <option value="TASK_KILLED">Killed</option><option value="TASK_LOST">Lost</option></select></label>
            <label>Filter <input id="task-filter" type="search" placeholder="task, app or host"></label>
            <button id="task-prev" type="button">Previous</button><span id="task-range" class="muted"></span>
            <button id="task-next" type="button">Next</button></div>
            <table id="tasks"><thead><tr><th>Task</th><th>App</th><th>State</th><th>Health</th><th>Agent</th><th>Ports</th>
            <th>IPs</th><th>Commit</th><th>Updated</th><th>Sandbox</th></tr></thead><tbody></tbody></table></section>
            </main>
            """)

    static let script = """
        'use strict';
        (function () {
          const C = window.Capstan;
          const view = { offset: 0, limit: 50, state: 'active', q: '' };
          const stateKind = { TASK_RUNNING: 'ok', TASK_FINISHED: 'ok', TASK_STAGING: 'info', TASK_STARTING: 'info',
            TASK_KILLING: 'warn', TASK_KILLED: 'warn', TASK_FAILED: 'bad', TASK_LOST: 'bad', TASK_ERROR: 'bad',
            TASK_UNREACHABLE: 'bad' };

          function renderSummary(s) {
            C.clear(document.getElementById('master-info')).textContent =
              s.hostname + ' \\u00b7 master ' + s.masterID + ' \\u00b7 Mesos API ' + s.version + ' \\u00b7 started ' + C.time(s.startedAt);
            const rows = C.clear(document.querySelector('#resources tbody'));
            for (const column of ['total', 'used', 'offered', 'idle']) {
              const a = s.resources[column];
              rows.appendChild(C.el('tr', {}, [C.el('th', { text: column[0].toUpperCase() + column.slice(1) }),
                C.cell(C.num(a.cpus, 2), 'num'), C.cell(C.num(a.gpus, 0), 'num'), C.cell(C.num(a.mem, 0), 'num'),
                C.cell(C.num(a.disk, 0), 'num')]));
            }
            const counts = C.clear(document.getElementById('task-counts'));
            for (const name of Object.keys(s.taskCounts).sort()) {
              counts.appendChild(C.badge(name.replace('TASK_', '') + ' ' + s.taskCounts[name], stateKind[name]));
            }
            const agents = C.clear(document.querySelector('#agents tbody'));
            for (const a of s.agents) {
              const r = a.resources;
              agents.appendChild(C.el('tr', { data: { agent: a.id } }, [C.cell(a.hostname), C.cell(a.id, 'mono'),
                C.el('td', {}, [C.badge(a.active ? 'active' : 'unreachable', a.active ? 'ok' : 'bad')]),
                C.cell(C.num(r.used.cpus, 2) + ' / ' + C.num(r.total.cpus, 2), 'num'),
                C.cell(C.num(r.used.mem, 0) + ' / ' + C.num(r.total.mem, 0), 'num'),
                C.cell(C.num(r.used.disk, 0) + ' / ' + C.num(r.total.disk, 0), 'num'),
                C.cell(C.num(r.used.gpus, 0) + ' / ' + C.num(r.total.gpus, 0), 'num'),
                C.cell(C.num(r.offered.cpus, 2), 'num'), C.cell(C.num(r.idle.cpus, 2), 'num'),
                C.cell(a.attributes.join(' ')), C.cell((a.volumes || []).join(', '), 'mono'), C.cell(a.other, 'mono')]));
            }
            const frameworks = C.clear(document.querySelector('#frameworks tbody'));
            for (const f of s.frameworks) {
              const ui = f.webuiURL && /^https?:\\/\\//.test(f.webuiURL) ? C.el('a', { text: f.webuiURL, href: f.webuiURL }) : null;
              frameworks.appendChild(C.el('tr', {}, [C.cell(f.name), C.cell(f.id, 'mono'), C.cell(f.role),
                C.el('td', {}, [C.badge(f.active ? 'connected' : 'disconnected', f.active ? 'ok' : 'warn')]),
                C.cell(f.activeTasks, 'num'), C.el('td', {}, [ui])]));
            }
          }

          function renderTasks(page) {
            const body = C.clear(document.querySelector('#tasks tbody'));
            for (const t of page.tasks) {
              const health = t.healthy === true ? C.badge('healthy', 'ok') : t.healthy === false ? C.badge('unhealthy', 'bad') : C.badge('-', '');
              const sandbox = t.sandboxURL && /^https?:\\/\\//.test(t.sandboxURL) ? C.el('a', { text: 'sandbox', href: t.sandboxURL }) : null;
              body.appendChild(C.el('tr', { data: { task: t.id, state: t.state } }, [
                C.el('td', { title: t.name }, [C.el('span', { text: t.id, cls: 'mono' })]), C.cell(t.app || ''),
                C.el('td', { title: t.message || '' }, [C.badge(t.state.replace('TASK_', ''), stateKind[t.state])]),
                C.el('td', { title: t.message || '' }, [health]),
                C.cell(t.agentHostname || t.agentID), C.cell(t.ports.join(', '), 'mono'), C.cell(t.ips.join(', '), 'mono'),
                C.cell(t.commit || '', 'mono'), C.cell(C.time(t.updatedAt)), C.el('td', {}, [sandbox])]));
            }
            const last = Math.min(page.offset + page.tasks.length, page.total);
            document.getElementById('task-range').textContent =
              page.total === 0 ? 'no tasks' : (page.offset + 1) + '\\u2013' + last + ' of ' + page.total;
            document.getElementById('task-prev').disabled = page.offset === 0;
            document.getElementById('task-next').disabled = last >= page.total;
            document.body.dataset.taskTotal = String(page.total);
          }

          async function loadSummary() { renderSummary(await C.getJSON('/api/v1/dashboard/summary')); }
          async function loadTasks() {
            const query = new URLSearchParams({ offset: String(view.offset), limit: String(view.limit), state: view.state, q: view.q });
            renderTasks(await C.getJSON('/api/v1/dashboard/tasks?' + query.toString()));
          }
          const refreshSummary = C.coalesced(loadSummary, 250);
          const refreshTasks = C.coalesced(loadTasks, 150);

          document.getElementById('task-state').addEventListener('change', function (e) {
            view.state = e.target.value; view.offset = 0; refreshTasks();
          });
          document.getElementById('task-filter').addEventListener('input', function (e) {
            view.q = e.target.value; view.offset = 0; refreshTasks();
          });
          document.getElementById('task-prev').addEventListener('click', function () {
            view.offset = Math.max(0, view.offset - view.limit); refreshTasks();
          });
          document.getElementById('task-next').addEventListener('click', function () {
            view.offset += view.limit; refreshTasks();
          });

          refreshSummary();
          refreshTasks();
          C.live('/api/v1/dashboard/events', function (event) {
            if (!event || event.type === 'HEARTBEAT') return;
            if (event.type === 'TASK_ADDED' || event.type === 'TASK_UPDATED') refreshTasks();
            refreshSummary();
          }, function () { refreshSummary(); refreshTasks(); });
        })();
        """
}
