import WebClient

/// The cookies of one sign-in: what each answer sets replaces what came before, as a browser's jar
/// does. Panoptes keeps the session in the cookie itself, so the cookie that sign-in sets (carrying
/// the user) is the one the token request must send, not the one from the first GET.
struct CookieJar: Sendable {
    private(set) var cookies: [(name: String, value: String)] = []

    /// Takes the answer's `Set-Cookie` values; an empty value or `Max-Age=0` removes the cookie.
    mutating func take(_ response: HTTPResponse) {
        for header in response.setCookies {
            let attributes = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let pair = attributes.first, let eq = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<eq]), value = String(pair[pair.index(after: eq)...])
            cookies.removeAll { $0.name == name }
            let expired = attributes.dropFirst().contains { $0.lowercased() == "max-age=0" }
            if !value.isEmpty && !expired { cookies.append((name, value)) }
        }
    }

    /// The `Cookie` header value, or nil when the jar is empty.
    var header: String? { cookies.isEmpty ? nil : cookies.map { "\($0.name)=\($0.value)" }.joined(separator: "; ") }
}
