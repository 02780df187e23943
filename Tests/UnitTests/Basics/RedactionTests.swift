import Foundation
import Testing
@testable import Basics
@testable import Avro
@testable import WebClient
@testable import AlertModel
@testable import Kafka

/// The one redaction step: configured secrets and the values after credential-like keys are gone
/// from any text, in every encoding a server might echo them in.
@Suite struct RedactionTests {
    let redaction = Redaction(secrets: ["s3cr3t-Value/+=", "abc"])

    @Test func configuredSecretsGoInEveryEncoding() {
        let text = "plain s3cr3t-Value/+= form s3cr3t%2DValue%2F%2B%3D json \"s3cr3t-Value\\/+=\" short abc stays"
        let out = redaction.apply(text)
        #expect(!out.contains("s3cr3t"), "\(out)")
        #expect(out.contains("short abc stays"), "secrets under 4 characters would blank ordinary words: \(out)")
    }

    @Test(arguments: [
        ("grant_type=client_credentials&client_id=x&client_secret=hunter2hunter2&scope=public", "hunter2hunter2"),
        ("POST /oauth/token password=letmein123&login=pi", "letmein123"),
        (#"{"client_secret": "hunter2hunter2", "grant_type": "password"}"#, "hunter2hunter2"),
        (#"{"access_token":"eyJhbGciOi.J9.abc","token_type":"Bearer"}"#, "eyJhbGciOi.J9.abc"),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA==\r\nHost: x", "dXNlcjpwYXNzd29yZA=="),
        ("authorization=Bearer abcdefghijkl", "abcdefghijkl"),
        ("echo: Bearer abcdefghijklmnop end", "abcdefghijklmnop"),
        ("https://user:pa55word@registry.example.org/subjects", "pa55word"),
        ("{\"user\": {\"password\":\"with \\\"quote\\\" inside\"}}", "with \\\"quote"),
        ("sasl.password: kafka-pw-1", "kafka-pw-1"),
    ])
    func credentialShapedValuesGo(text: String, secret: String) {
        let out = Redaction(secrets: []).apply(text)
        #expect(!out.contains(secret), "\(out)")
        #expect(out.contains(Redaction.placeholder), "\(out)")
    }

    @Test func ordinaryMessagesStayReadable() {
        for text in ["POST https://www.zooniverse.org/api/subjects: HTTP 422: Display name has already been taken (subject_set 12, tokens 3)",
                     "Zooniverse login failed at http://127.0.0.1:4/oauth/token: HTTP 401: invalid_client"] {
            #expect(Redaction(secrets: []).apply(text) == text)
        }
    }

    @Test func excerptsAreShortenedAfterRedaction() {
        let long = String(repeating: "x", count: 290) + " client_secret=abcdefghijklmnopqrstuvwxyz"
        let out = Redaction(secrets: []).excerpt(long, limit: 300)
        #expect(!out.contains("abcdefghij") && out.count <= 301, "\(out)")
    }

    @Test func theEnvironmentNamesTheSecrets() {
        let r = Redaction.fromEnvironment(["PANOPTES_CLIENT_SECRET": "cs-123456", "PANOPTES_CLIENT_ID": "cid",
                                           "CITSCI_SCHEMA_REGISTRY_USER": "reg", "CITSCI_SCHEMA_REGISTRY_PASSWORD": "rp-987654"])
        let basic = Data("reg:rp-987654".utf8).base64EncodedString()
        let out = r.apply("echo cs-123456 and \(basic) and rp-987654")
        #expect(!out.contains("cs-123456") && !out.contains(basic) && !out.contains("rp-987654"), "\(out)")
    }
}
