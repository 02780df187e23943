import Foundation

/// The one step every message built from a server's answer, a request or a library's log passes
/// through before it is printed or logged: it removes the secrets citsci is configured with (their
/// values, as they are, percent-encoded or JSON-escaped) and the values that follow `Authorization`,
/// `client_secret`, `password`, `token` and their kin in headers, forms, URLs and JSON. A server or
/// proxy that echoes a request back then cannot make citsci print a credential.
package struct Redaction: Sendable {
    /// Where the credentials come from; each set one is removed from every message.
    package static let secretVariables = [
        "PANOPTES_CLIENT_SECRET", "PANOPTES_PASSWORD", "PANOPTES_TOKEN",
        "CITSCI_KAFKA_PASSWORD", "CITSCI_SCHEMA_REGISTRY_PASSWORD", "CITSCI_CAESAR_PASSWORD",
        "CITSCI_METRICS_TOKEN", "CITSCI_WEB_TOKEN", "PGPASSWORD",
    ]
    package static let placeholder = "[redacted]"

    let secrets: [String]

    /// Secrets shorter than 4 characters are not searched for: they would blank out ordinary words.
    package init(secrets: [String]) {
        var all = Set<String>()
        for s in secrets where s.count >= 4 {
            all.insert(s)
            if let encoded = s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { all.insert(encoded) }
            if let data = try? JSONEncoder().encode(s), let quoted = String(data: data, encoding: .utf8) { all.insert(String(quoted.dropFirst().dropLast())) }
        }
        self.secrets = all.sorted { $0.count > $1.count }  // longest first, so a secret's encoded form goes whole
    }

    /// The secrets of this process's environment, worked out once: it does not change while citsci
    /// runs, and the step runs on every log line librdkafka writes.
    package static let current = fromEnvironment()

    /// The secrets set in `environment` (and the basic-auth pairs they make).
    package static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Redaction {
        var values = secretVariables.compactMap { environment[$0] }
        for (user, password) in [("CITSCI_SCHEMA_REGISTRY_USER", "CITSCI_SCHEMA_REGISTRY_PASSWORD"), ("CITSCI_CAESAR_USERNAME", "CITSCI_CAESAR_PASSWORD"),
                                 ("PANOPTES_CLIENT_ID", "PANOPTES_CLIENT_SECRET"), ("CITSCI_KAFKA_USERNAME", "CITSCI_KAFKA_PASSWORD")] {
            if let u = environment[user], let p = environment[password] { values.append(Data("\(u):\(p)".utf8).base64EncodedString()) }
        }
        return Redaction(secrets: values)
    }

    /// `text` without secrets.
    package func apply(_ text: String) -> String {
        var out = text
        for s in secrets where out.contains(s) { out = out.replacingOccurrences(of: s, with: Self.placeholder) }
        for (pattern, template) in Self.patterns {
            let range = NSRange(out.startIndex..., in: out)
            out = pattern.stringByReplacingMatches(in: out, range: range, withTemplate: template)
        }
        return out
    }

    /// `text` without secrets, cut to `limit` characters (after redaction, so a cut never leaves half a secret).
    package func excerpt(_ text: String, limit: Int = 300) -> String {
        let clean = apply(text.trimmingCharacters(in: .whitespacesAndNewlines))
        return clean.count > limit ? String(clean.prefix(limit)) + "…" : clean
    }

    /// Compiled once; NSRegularExpression is immutable and safe to share.
    static let patterns: [(NSRegularExpression, String)] = {
        // A key starts at a boundary that is not a path's slash: `/oauth/token: HTTP 401` names a URL.
        let secretKey = #"(?<![/A-Za-z0-9_.-])[A-Za-z0-9_.-]*(?:secret|password|passwd|token|api_?key|credentials)"#
        let rules: [(String, String)] = [
            // Authorization: Basic …, Proxy-Authorization: … (a header line, as echoed).
            (#"((?:proxy-)?authorization)(\s*[:=]\s*)[^\r\n"',}]+"#, "$1$2" + placeholder),
            // A scheme and its credentials anywhere else.
            (#"\b(Basic|Bearer|Digest)\s+[A-Za-z0-9._~+/=-]{6,}"#, "$1 " + placeholder),
            // JSON: "client_secret": "…".
            ("(\"" + secretKey + #""\s*:\s*)"(?:[^"\\]|\\.)*""#, "$1\"" + placeholder + "\""),
            // Forms, URLs, logs: client_secret=…, password: …
            ("(" + secretKey + #"\s*[=:]\s*)(?!\[redacted\])[^&\s"',;}\]]+"#, "$1" + placeholder),
            // user:password@ in a URL.
            (#"(://[^/\s:@]+:)[^/\s@]+@"#, "$1" + placeholder + "@"),
        ]
        return rules.map { (try! NSRegularExpression(pattern: $0.0, options: [.caseInsensitive]), $0.1) }
    }()
}
