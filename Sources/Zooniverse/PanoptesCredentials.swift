import Foundation

/// How citsci logs in to Zooniverse. Secrets come from the environment or a file, never from
/// command-line arguments (they would show in `ps`), and are never printed.
package enum PanoptesCredentials: Sendable, CustomStringConvertible {
    /// A service account: an OAuth application's id and secret (the recommended way for a service).
    case clientCredentials(clientID: String, clientSecret: String)
    /// A person: login and password through the session sign-in the official clients use.
    case password(login: String, password: String, clientID: String)
    /// A bearer token obtained elsewhere (it cannot be refreshed).
    case token(String)

    /// From PANOPTES_CLIENT_ID + PANOPTES_CLIENT_SECRET, or PANOPTES_USERNAME + PANOPTES_PASSWORD
    /// (+ PANOPTES_CLIENT_ID: the id of a client Zooniverse allows the password flow for), or
    /// PANOPTES_TOKEN: the variables the official clients read.
    package static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> PanoptesCredentials? {
        if let id = env["PANOPTES_CLIENT_ID"], let secret = env["PANOPTES_CLIENT_SECRET"], !secret.isEmpty {
            return .clientCredentials(clientID: id, clientSecret: secret)
        }
        if let login = env["PANOPTES_USERNAME"], let password = env["PANOPTES_PASSWORD"], let id = env["PANOPTES_CLIENT_ID"] {
            return .password(login: login, password: password, clientID: id)
        }
        if let token = env["PANOPTES_TOKEN"], !token.isEmpty { return .token(token) }
        return nil
    }

    package var description: String {
        switch self {
        case .clientCredentials(let id, _): "OAuth client \(id) (client credentials)"
        case .password(let login, _, _): "user \(login) (password)"
        case .token: "a bearer token"
        }
    }
}
