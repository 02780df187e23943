import Avro
import WebClient
import Foundation
import Synchronization

/// A Confluent-compatible schema registry (`GET /schemas/ids/{id}`), over libcurl, with every schema
/// cached for the life of the process (registered schemas never change under an id).
package final class SchemaRegistryClient: WriterSchemaSource {
    package let baseURL: String
    private let http: HTTPClient
    private let authorization: String?
    private let cache = Mutex<[UInt32: AvroSchema]>([:])

    /// `username`/`password` give HTTP basic auth, as Confluent Cloud and Rubin's registry expect.
    package init(url: String, username: String? = nil, password: String? = nil, http: HTTPClient = HTTPClient(timeout: 10)) {
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.http = http
        if let username, let password {
            self.authorization = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        } else {
            self.authorization = nil
        }
    }

    package func schema(id: UInt32) throws(AlertDecodingError) -> AvroSchema {
        if let hit = cache.withLock({ $0[id] }) { return hit }
        let url = "\(baseURL)/schemas/ids/\(id)"
        var headers = [("Accept", "application/vnd.schemaregistry.v1+json, application/json")]
        if let authorization { headers.append(("Authorization", authorization)) }
        let response: HTTPResponse
        do {
            response = try http.get(url, headers: headers)
        } catch {
            throw AlertDecodingError(.schemaUnavailable, "schema registry unreachable: \(error)", offset: 1)
        }
        if response.status == 404 {
            throw AlertDecodingError(.unknownSchemaId, "schema id \(id) is not registered at \(baseURL) (HTTP 404: \(response.excerpt))", offset: 1)
        }
        guard response.status == 200 else {
            throw AlertDecodingError(.schemaUnavailable, "GET \(url) answered HTTP \(response.status): \(response.excerpt)", offset: 1)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let text = object["schema"] as? String else {
            throw AlertDecodingError(.invalidSchema, "GET \(url): reply has no \"schema\" string: \(response.excerpt)", offset: 1)
        }
        if let type = object["schemaType"] as? String, type != "AVRO" {
            throw AlertDecodingError(.invalidSchema, "schema id \(id) is of type \(type), not AVRO", offset: 1)
        }
        let schema: AvroSchema
        do {
            schema = try AvroSchema.parse(json: text)
        } catch {
            throw AlertDecodingError(.invalidSchema, "schema id \(id) from \(baseURL): \(error)", offset: 1)
        }
        cache.withLock { $0[id] = schema }
        return schema
    }

    /// Registers a schema under `subject` (`<topic>-value` by Confluent's convention) and returns its
    /// id; registering the same schema again gives the same id.
    package func register(schemaJSON: String, subject: String) throws(AlertDecodingError) -> UInt32 {
        let url = "\(baseURL)/subjects/\(subject)/versions"
        var headers = [("Content-Type", "application/vnd.schemaregistry.v1+json"), ("Accept", "application/vnd.schemaregistry.v1+json, application/json")]
        if let authorization { headers.append(("Authorization", authorization)) }
        let body = (try? JSONSerialization.data(withJSONObject: ["schema": schemaJSON])) ?? Data()
        let response: HTTPResponse
        do {
            response = try http.request("POST", url, headers: headers, body: Array(body))
        } catch {
            throw AlertDecodingError(.schemaUnavailable, "schema registry unreachable: \(error)", offset: 0)
        }
        guard response.status == 200, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
              let id = object["id"] as? Int, let id32 = UInt32(exactly: id) else {
            throw AlertDecodingError(.schemaUnavailable, "POST \(url) answered HTTP \(response.status): \(response.excerpt)", offset: 0)
        }
        return id32
    }
}
