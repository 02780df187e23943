import Basics
import WebClient

/// What went wrong talking to Zooniverse, with the request and, when there was one, the answer.
package struct PanoptesError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable, Equatable {
        /// The server answered with an error status.
        case http(status: Int)
        /// No answer: connection refused or dropped, time-out. A create may or may not have happened.
        case transport
        /// The answer was not the document expected.
        case badResponse
        /// Login failed (bad credentials, client id, or the session flow refused).
        case authentication
        /// A signed upload URL expired before the frame went up.
        case uploadExpired
    }

    package let kind: Kind
    package let method: String
    package let url: String
    package let message: String

    package var status: Int? { if case .http(let s) = kind { s } else { nil } }

    /// Panoptes' answer to a uniqueness rule (a set's name in its project, a set on a workflow, a
    /// subject in a set): `400 Validation failed: … has already been taken`. What was asked is done.
    package var isAlreadyTaken: Bool { status == 400 && message.contains("has already been taken") }

    package var description: String { Redaction.current.apply(unredacted) }

    private var unredacted: String {
        switch kind {
        case .http(let status): "\(method) \(url): HTTP \(status): \(message)"
        case .transport: "\(method) \(url): no answer (\(message))"
        case .badResponse: "\(method) \(url): unexpected answer: \(message)"
        case .authentication: "Zooniverse login failed at \(url): \(message)"
        case .uploadExpired: "\(method) upload: the signed URL expired (\(message))"
        }
    }

    /// The `errors[].message` texts of a Panoptes error body, or the body itself (shortened).
    static func message(from response: HTTPResponse) -> String {
        if let doc = try? JSONValue.decode(response.body) {
            if let errors = doc["errors"]?.array {
                let texts = errors.compactMap { $0["message"]?.string }
                if !texts.isEmpty { return texts.joined(separator: "; ") }
            }
            if let e = doc["error"]?.string { return e + (doc["error_description"]?.string.map { ": " + $0 } ?? "") }
        }
        return response.excerpt
    }
}
