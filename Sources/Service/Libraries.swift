import Kafka
import Stamps
import WebClient

/// The C libraries citsci runs on, for `citsci version` and bug reports.
package enum Libraries {
    package static var lines: [String] {
        ["librdkafka \(KafkaLibrary.version)\(KafkaLibrary.isRecentEnough ? "" : " (older than 2.2: cannot talk to Tansu; run scripts/bootstrap)")",
         "libcurl \(HTTPClient.libraryVersion)",
         "libpng \(PNGLibrary.version)"]
    }
}
