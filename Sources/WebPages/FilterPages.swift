import AlertModel
import Basics
import Filters
import Foundation
import WebServer

/// The filters, and the playground: write a rule, see `citsci filter check`'s errors as you type,
/// run it over the window of recent alerts, see the matches' frames and each clause's pass rate,
/// save it as a filter file (with the token).
struct FilterPages {
    let site: Site
    let layout: Layout

    func list() -> HTML {
        let rows: [HTML] = site.filters.filters.map { f in
            let c = site.filters.counters(f.name)
            let rate = c.evaluations > 0 ? HTML.number(100 * Double(c.matches) / Double(c.evaluations), digits: 2) + "%" : "-"
            let micros = c.evaluations > 0 ? HTML.number(Double(c.nanoseconds) / Double(c.evaluations) / 1000, digits: 1) : "-"
            let destination = [f.destination.project.map { "project \($0)" }, f.destination.workflow.map { "workflow \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
            return """
                <tr><td><a href="\(layout.link("/playground"))?filter=\(HTML.urlComponent(f.name))">\(f.name)</a>\
                \(f.enabled ? "" : " <small>(disabled)</small>")<br><small>\(f.description ?? "")</small></td>
                <td><code>\(String(f.version.prefix(12)))</code></td><td>\(f.owner ?? "-")</td><td>\(destination)</td>
                <td class="n">\(HTML.number(Double(c.matches)))</td><td class="n">\(HTML.number(Double(c.evaluations)))</td>
                <td class="n">\(rate)</td><td class="n">\(micros)</td><td class="n">\(HTML.number(Double(c.overBudget)))</td></tr>
                """
        }
        let body: HTML = """
            <p>The filters in <code>\(site.filters.folder)</code>, as the service runs them (counts since it started).
            <a href="\(layout.link("/playground"))">Write a new one in the playground.</a></p>
            <table><thead><tr><th>filter</th><th>version</th><th>owner</th><th>destination</th><th class="n">matches</th>
            <th class="n">alerts read</th><th class="n">pass rate</th><th class="n">µs per alert</th><th class="n">over budget</th></tr></thead>
            <tbody>\(rows.isEmpty ? ["<tr><td colspan=\"9\">no filters</td></tr>"] : rows)</tbody></table>
            """
        return layout.page("Filters", current: "/filters", body)
    }

    func playground(name: String?) -> HTML {
        let existing = name.flatMap { n in site.filters.filters.first { $0.name == n } }
        let expression = existing?.rule.expression ?? "snr > 5 and reliability > 0.5"
        let window = (try? site.state.recent.count()) ?? 0
        let saving: HTML = site.token == nil
            ? "<p><small>Saving is off: start the service with CITSCI_WEB_TOKEN set.</small></p>"
            : ""
        let body: HTML = """
            <p>A rule is checked as you type (the same messages as <code>citsci filter check</code>) and runs over the newest
            \(HTML.number(Double(min(window, site.playgroundAlerts)))) alerts the service keeps.</p>
            <label for="expression">Expression</label>
            <textarea id="expression" spellcheck="false">\(expression)</textarea>
            <div id="check" aria-live="polite"></div>
            <p><button id="run" type="button">Run over recent alerts</button></p>
            <div id="results" aria-live="polite"></div>
            <h2>Save as a filter file</h2>
            \(saving)
            <form class="save" id="save">
            <label>name<input type="text" name="name" value="\(existing?.name ?? "")" pattern="[A-Za-z0-9][A-Za-z0-9_\\-]{0,63}" required></label>
            <label>description<input type="text" name="description" value="\(existing?.description ?? "")"></label>
            <label>owner<input type="text" name="owner" value="\(existing?.owner ?? "")"></label>
            <label>Zooniverse project<input type="text" name="project" value="\(existing?.destination.project ?? "")"></label>
            <label>workflow<input type="text" name="workflow" value="\(existing?.destination.workflow ?? "")"></label>
            <label>token<input type="password" name="token" autocomplete="off"></label>
            <button type="submit">Save</button>
            </form>
            <div id="saved" aria-live="polite"></div>
            """
        return layout.page("Filter playground", current: "/playground", body, script: HTML(raw: "<script>\(Self.script)</script>"))
    }

    /// The playground's expression as a rule, with the filters folder's resources (lists, cuts).
    private func compile(_ expression: String) throws(FilterError) -> FilterRule {
        var errors: [FilterError] = []
        let resources = FilterResources.load(folder: site.filters.folder, errors: &errors)
        return try FilterRule(name: "playground", expression: expression, resources: resources)
    }

    /// `citsci filter check`'s verdict on an expression, as JSON for the page.
    func check(_ expression: String) -> JSONValue {
        do throws(FilterError) {
            let rule = try compile(expression)
            return ["ok": .bool(true), "surveys": .array(rule.surveys.map { .string($0.rawValue) }),
                    "clauses": .array(rule.clauses.map { .string($0.text) })]
        } catch {
            let placed = error.placed(in: expression, file: nil)
            var doc: [String: JSONValue] = ["ok": .bool(false), "message": .string(placed.description), "reason": .string(placed.reason),
                                            "line": .number(Double(placed.line ?? 1)), "column": .number(Double(placed.column ?? 1))]
            if let s = placed.suggestion { doc["suggestion"] = .string(s) }
            return .object(doc)
        }
    }

    /// The rule over the window: how many alerts it read and matched, each clause's pass rate, and
    /// the newest matches with their frames.
    func run(_ expression: String) async -> HTML {
        let rule: FilterRule
        do throws(FilterError) { rule = try compile(expression) } catch {
            return "<pre class=\"error\">\(error.placed(in: expression, file: nil).description)</pre>"
        }
        let clock = ContinuousClock()
        let start = clock.now
        let result: PlaygroundRun.Result
        do { result = try await PlaygroundRun(site: site, rule: rule).run() } catch {
            return "<pre class=\"error\">cannot read the window of recent alerts: \(String(describing: error))</pre>"
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if result.read == 0 {
            return "<p>The window of recent alerts is empty: the service keeps the alerts it reads (<code>pipeline: {recent_alerts: N}</code>).</p>"
        }
        let clauses: [HTML] = zip(rule.clauses, result.clausePasses).map { clause, passes in
            let rate = result.read > 0 ? 100 * Double(passes) / Double(result.read) : 0
            return "<tr><td><code>\(clause.text)</code></td><td class=\"n\">\(HTML.number(Double(passes)))</td><td class=\"n\">\(HTML.number(rate, digits: 1))%</td></tr>"
        }
        let matches: [HTML] = result.shown.map { m in
            let base = layout.link("/window/\(HTML.urlComponent(m.survey))/\(m.alertID)")
            let frames: [HTML] = (0..<3).map { i in "<img src=\"\(base)/\(i).png\" alt=\"frame \(i + 1) of alert \(m.alertID)\" loading=\"lazy\">" }
            return """
                <div class="match">\(frames)<br><b>\(m.survey) \(m.alertID)</b> object \(m.objectID ?? "-")<br>\
                <small>\(m.summary)</small></div>
                """
        }
        return """
            <p class="ok" id="summary" data-matches="\(result.matched)" data-read="\(result.read)">\(HTML.number(Double(result.matched))) of \(HTML.number(Double(result.read))) recent alerts match
            (\(HTML.number(100 * Double(result.matched) / Double(result.read), digits: 2))%), in \(HTML.number(seconds * 1000)) ms\
            \(result.undecodable > 0 ? "; \(result.undecodable) could not be decoded" : "").</p>
            <table><thead><tr><th>clause</th><th class="n">alerts passing</th><th class="n">pass rate</th></tr></thead><tbody>\(clauses)</tbody></table>
            <div class="matches">\(matches)</div>
            """
    }

    /// Writes the filter file (`<name>.yaml` in the filters folder, or the file the filter of that
    /// name already lives in) and reloads the filters. Needs the token.
    func save(_ request: HTTPServer.Request) -> HTTPServer.Response {
        guard let token = site.token else { return .json(403, ["error": "saving is off: the service has no CITSCI_WEB_TOKEN"]) }
        guard HTTPAccess.constantTimeEqual(request.headers["authorization"] ?? "", "Bearer " + token) else {
            return .json(401, ["error": "saving a filter needs the token (Authorization: Bearer ...)"])
        }
        guard let form = try? JSONValue.decode(request.body), let name = form["name"]?.string, let expression = form["expression"]?.string else {
            return .json(400, ["error": "the body must be JSON with name and expression"])
        }
        guard Self.isFileName(name) else {
            return .json(400, ["error": "a filter name is 1-64 letters, digits, '-' or '_', starting with a letter or digit"])
        }
        let folder = site.filters.folder
        let path = site.filters.filters.first { $0.name == name }?.path ?? (folder as NSString).appendingPathComponent(name + ".yaml")
        let old = try? String(contentsOfFile: path, encoding: .utf8)
        var changes: [(key: String, value: String)] = [("name", name), ("expression", expression)]
        for (key, field) in [("description", "description"), ("owner", "owner"), ("destination.project", "project"), ("destination.workflow", "workflow")] {
            if let v = form[field]?.string, !v.isEmpty { changes.append((key, v)) }
        }
        let text: String
        do { text = try FilterFile.editedText(old, setting: changes) } catch {
            return .json(400, ["error": .string("cannot edit \((path as NSString).lastPathComponent): \(error)")])
        }
        var errors: [FilterError] = []
        let resources = FilterResources.load(folder: folder, errors: &errors)
        do throws(FilterError) { _ = try FilterFile(text: text, path: path, resources: resources) } catch {
            return .json(422, ["error": .string(error.description)])
        }
        do {
            // Written beside it, then renamed over it: the watcher never reads half a file.
            let temporary = (folder as NSString).appendingPathComponent(".\(name).yaml.saving")
            try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            return .json(500, ["error": .string("cannot write \(path): \(error.localizedDescription)")])
        }
        let reloadErrors = site.filters.reload().map(\.description)
        let saved = site.filters.filters.first { $0.name == name }
        return .json(200, ["saved": .string(path), "version": .string(saved?.version ?? ""),
                           "reload_errors": .array(reloadErrors.map { .string($0) })])
    }

    static func isFileName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), let first = name.unicodeScalars.first,
              CharacterSet.alphanumerics.contains(first), first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
    }

    static let script = """
        (function(){
          var prefix = document.body.dataset.prefix, box = document.getElementById('expression'), timer = null, seq = 0;
          function show(el, cls, text){ el.replaceChildren(); var p = document.createElement(cls === 'error' ? 'pre' : 'p'); p.className = cls; p.textContent = text; el.appendChild(p); }
          function check(){
            var mine = ++seq;
            fetch(prefix + '/playground/check', {method: 'POST', body: box.value}).then(function(r){ return r.json(); }).then(function(v){
              if (mine !== seq) return;
              var el = document.getElementById('check');
              if (v.ok) show(el, 'ok', 'OK: reads ' + v.surveys.join(' and ') + ' alerts; ' + v.clauses.length + ' clause(s)');
              else show(el, 'error', v.message);
            });
          }
          box.addEventListener('input', function(){ clearTimeout(timer); timer = setTimeout(check, 150); });
          check();
          document.getElementById('run').addEventListener('click', function(){
            var out = document.getElementById('results');
            show(out, 'ok', 'running…');
            fetch(prefix + '/playground/run', {method: 'POST', body: box.value}).then(function(r){ return r.text(); })
              .then(function(html){ out.innerHTML = html; });
          });
          document.getElementById('save').addEventListener('submit', function(e){
            e.preventDefault();
            var f = new FormData(e.target), doc = {expression: box.value};
            ['name', 'description', 'owner', 'project', 'workflow'].forEach(function(k){ doc[k] = f.get(k); });
            fetch(prefix + '/filters/save', {method: 'POST', headers: {'Authorization': 'Bearer ' + f.get('token'), 'Content-Type': 'application/json'},
                                             body: JSON.stringify(doc)})
              .then(function(r){ return r.json().then(function(v){ return [r.status, v]; }); })
              .then(function(a){
                var el = document.getElementById('saved');
                if (a[0] === 200) show(el, 'ok', 'Saved ' + a[1].saved + ' (version ' + a[1].version.slice(0, 12) + '); the service reloaded its filters.');
                else show(el, 'error', 'Not saved (' + a[0] + '): ' + a[1].error);
              });
          });
        })();
        """
}
