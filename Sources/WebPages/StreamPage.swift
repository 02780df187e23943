import Basics
import Foundation

/// The stream at a glance: alerts consumed, decoded, matched, dead-lettered (totals and rates),
/// consumer lag per partition, queues, the push and pull. Live: a small script asks `/api/stream`
/// every two seconds and computes the rates from successive answers.
struct StreamPage {
    let site: Site
    let layout: Layout

    /// The tiles: metric name → label.
    static let tiles: [(String, String)] = [
        ("citsci_messages_total", "messages consumed"), ("citsci_files_total", "files read"), ("citsci_alerts_total", "alerts decoded"),
        ("citsci_alerts_matched_total", "alerts matched"), ("citsci_dead_letters_total", "dead letters"),
        ("citsci_subjects_created_total", "subjects made"), ("citsci_subjects_pushed_total", "subjects pushed"),
        ("citsci_subjects_held", "subjects held by the data-rights gate"), ("citsci_push_failures_total", "failed pushes"),
        ("citsci_classifications_pulled_total", "classifications pulled"), ("citsci_classification_failures_total", "failed pulls"),
        ("citsci_results_published_total", "results published"), ("citsci_recent_alerts_dropped_total", "missed by the playground window"),
    ]

    /// The figures of the metrics text the page shows, as JSON.
    static func snapshot(_ text: String) -> JSONValue {
        let samples = MetricsText.parse(text)
        var totals: [String: JSONValue] = [:]
        for (name, _) in tiles { totals[name] = .number(samples.filter { $0.name == name }.reduce(0) { $0 + $1.value }) }
        let lag: [JSONValue] = samples.filter { $0.name == "citsci_consumer_lag" }
            .sorted { ($0.labels["topic"] ?? "", Int($0.labels["partition"] ?? "") ?? 0) < ($1.labels["topic"] ?? "", Int($1.labels["partition"] ?? "") ?? 0) }
            .map { ["topic": .string($0.labels["topic"] ?? ""), "partition": .string($0.labels["partition"] ?? ""), "lag": .number($0.value)] }
        var queues: [String: JSONValue] = [:]
        for s in samples where s.name == "citsci_queue_depth" { queues[s.labels["stage"] ?? ""] = .number(s.value) }
        let paused = samples.first { $0.name == "citsci_consumer_paused" }?.value ?? 0
        func last(_ what: String) -> JSONValue {
            guard let at = samples.first(where: { $0.name == "citsci_last_\(what)_timestamp_seconds" })?.value, at > 0 else { return .null }
            return ["at": .number(at), "ok": .bool((samples.first { $0.name == "citsci_last_\(what)_success" }?.value ?? 0) > 0)]
        }
        return ["time": .number(Date().timeIntervalSince1970), "totals": .object(totals), "lag": .array(lag),
                "queues": .object(queues), "paused": .bool(paused > 0), "push": last("push"), "pull": last("pull")]
    }

    func render() async -> HTML {
        let snap = Self.snapshot(site.metrics())
        let state = site.state
        let held = (await Site.blocking { try state.zooniverse.heldByProject() }).value ?? [:]
        let heldRows: [HTML] = held.sorted { $0.key < $1.key }.flatMap { project, reasons in
            reasons.sorted { $0.value > $1.value }.map { "<tr><td>\(project)</td><td>\($0.key)</td><td class=\"n\">\(HTML.number(Double($0.value)))</td></tr>" as HTML }
        }
        func last(_ what: String, _ label: String) -> HTML {
            let s = snap[what]
            guard let at = s?["at"]?.number else {
                return "<p id=\"\(what)\">\(label): \(site.consuming ? "not yet in this run" : "not known (this server only looks: citsci serve)")</p>"
            }
            let ok = s?["ok"] == .bool(true)
            return "<p id=\"\(what)\">\(label): <span class=\"\(ok ? "ok" : "bad")\">\(ok ? "ok" : "failed (see the log)")</span> at \(DeadLetterPages.date(Date(timeIntervalSince1970: at)))</p>"
        }
        let tiles: [HTML] = Self.tiles.map { name, label in
            let v = snap["totals"]?[name]?.number ?? 0
            return "<div class=\"tile\"><b data-metric=\"\(name)\">\(HTML.number(v))</b>\(label)<br><small data-rate=\"\(name)\"></small></div>"
        }
        let lag: [HTML] = (snap["lag"]?.array ?? []).map { row in
            "<tr><td>\(row["topic"]?.string)</td><td class=\"n\">\(row["partition"]?.string)</td><td class=\"n\">\(HTML.number(row["lag"]?.number ?? 0))</td></tr>"
        }
        let queues: [HTML] = (snap["queues"]?.object ?? [:]).sorted { $0.key < $1.key }.map { stage, depth in
            "<tr><td>\(stage)</td><td class=\"n\">\(HTML.number(depth.number ?? 0))</td></tr>"
        }
        let body: HTML = """
            <p>\(site.consuming ? "Rates are per second over the last two seconds; the page updates itself." : "This server only looks at the state store and sink (citsci serve): nothing is consumed, so the figures below stay at zero.")</p>
            <div class="tiles">\(tiles)</div>
            <h2>Consumer lag</h2>
            <table id="lag"><thead><tr><th>topic</th><th class="n">partition</th><th class="n">messages behind</th></tr></thead>
            <tbody>\(lag.isEmpty ? ["<tr><td colspan=\"3\">no partitions assigned (a folder source, or not joined yet)</td></tr>"] : lag)</tbody></table>
            <h2>Queues</h2>
            <table id="queues"><thead><tr><th>stage</th><th class="n">depth</th></tr></thead>
            <tbody>\(queues.isEmpty ? ["<tr><td colspan=\"2\">none</td></tr>"] : queues)</tbody></table>
            <h2>Zooniverse</h2>
            \(last("push", "Last push")) \(last("pull", "Last pull of classifications"))
            <table id="held"><thead><tr><th>project</th><th>held by the data-rights gate because</th><th class="n">subjects</th></tr></thead>
            <tbody>\(heldRows.isEmpty ? ["<tr><td colspan=\"3\">none held</td></tr>"] : heldRows)</tbody></table>
            """
        return layout.page("Stream", current: "/", body, script: HTML(raw: "<script>\(Self.script)</script>"))
    }

    static let script = """
        (function(){
          var prefix = document.body.dataset.prefix, last = null;
          function fmt(x){ return Math.round(x).toLocaleString('en-US'); }
          function row(cells){ var tr=document.createElement('tr'); cells.forEach(function(c,i){ var td=document.createElement('td'); td.textContent=c; if(i>0) td.className='n'; tr.appendChild(td); }); return tr; }
          function tick(){
            fetch(prefix + '/api/stream').then(function(r){ return r.json(); }).then(function(s){
              document.querySelectorAll('[data-metric]').forEach(function(el){
                var name = el.dataset.metric, v = s.totals[name] || 0;
                el.textContent = fmt(v);
                var rate = document.querySelector('[data-rate="' + name + '"]');
                if (last && rate) { var dt = s.time - last.time; rate.textContent = dt > 0 ? fmt((v - (last.totals[name] || 0)) / dt) + ' /s' : ''; }
              });
              var lag = document.querySelector('#lag tbody');
              if (s.lag.length) { lag.replaceChildren.apply(lag, s.lag.map(function(l){ return row([l.topic, l.partition, fmt(l.lag)]); })); }
              var q = document.querySelector('#queues tbody'), names = Object.keys(s.queues).sort();
              if (names.length) { q.replaceChildren.apply(q, names.map(function(n){ return row([n, fmt(s.queues[n])]); })); }
              ['push', 'pull'].forEach(function(w){
                var el = document.getElementById(w), v = s[w];
                if (!el || !v) return;
                var label = w === 'push' ? 'Last push' : 'Last pull of classifications';
                var span = document.createElement('span'); span.className = v.ok ? 'ok' : 'bad'; span.textContent = v.ok ? 'ok' : 'failed (see the log)';
                el.replaceChildren(document.createTextNode(label + ': '), span,
                  document.createTextNode(' at ' + new Date(v.at * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC'));
              });
              last = s;
            }).catch(function(){});
          }
          tick(); setInterval(tick, 2000);
        })();
        """
}

/// Samples of Prometheus' text format (what the registry renders): name, labels, value. Label
/// values are read as quoted strings (a filter's name may hold a comma, a brace or an escaped quote).
enum MetricsText {
    struct Sample { let name: String; let labels: [String: String]; let value: Double }

    static func parse(_ text: String) -> [Sample] {
        var out: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let head = Array(line[..<space].unicodeScalars)
            guard let brace = head.firstIndex(of: "{") else {
                out.append(Sample(name: String(line[..<space]), labels: [:], value: value))
                continue
            }
            var labels: [String: String] = [:]
            var i = brace + 1
            while i < head.count, head[i] != "}" {
                var key = ""
                while i < head.count, head[i] != "=" { if head[i] != "," && head[i] != " " { key.unicodeScalars.append(head[i]) }; i += 1 }
                i += 1  // =
                guard i < head.count, head[i] == "\"" else { break }
                i += 1
                var value = ""
                while i < head.count, head[i] != "\"" {
                    if head[i] == "\\", i + 1 < head.count {
                        i += 1
                        value.unicodeScalars.append(head[i] == "n" ? "\n" : head[i])
                    } else {
                        value.unicodeScalars.append(head[i])
                    }
                    i += 1
                }
                i += 1  // closing quote
                labels[key] = value
            }
            out.append(Sample(name: String(String.UnicodeScalarView(head[..<brace])), labels: labels, value: value))
        }
        return out
    }
}
