import Basics
import Testing
@testable import WebPages

/// The stream page's figures from the registry's text: labels read as quoted strings, whatever a
/// filter's name holds; the tiles summed over their label sets; the last push and pull.
@Suite struct StreamPageTests {
    @Test func labelsAreQuotedStrings() {
        let text = """
            # TYPE citsci_filter_matches_total counter
            citsci_filter_matches_total{filter="a,b{c}=\\"d\\"\\\\e"} 7
            citsci_consumer_lag{topic="alerts",partition="3"} 12
            citsci_alerts_total 1500
            """
        let samples = MetricsText.parse(text)
        #expect(samples.count == 3)
        #expect(samples[0].name == "citsci_filter_matches_total" && samples[0].labels == ["filter": #"a,b{c}="d"\e"#] && samples[0].value == 7)
        #expect(samples[1].labels == ["topic": "alerts", "partition": "3"])
        #expect(samples[2].name == "citsci_alerts_total" && samples[2].labels.isEmpty && samples[2].value == 1500)
    }

    @Test func theSnapshotSumsTilesAndSaysTheLastRounds() {
        let snap = StreamPage.snapshot("""
            citsci_alerts_matched_total 4
            citsci_dead_letters_total{kind="x"} 2
            citsci_dead_letters_total{kind="y"} 3
            citsci_last_push_timestamp_seconds 1700000000
            citsci_last_push_success 0
            """)
        #expect(snap["totals"]?["citsci_alerts_matched_total"]?.number == 4 && snap["totals"]?["citsci_dead_letters_total"]?.number == 5)
        #expect(snap["push"]?["at"]?.number == 1_700_000_000 && snap["push"]?["ok"] == .bool(false))
        #expect(snap["pull"] == .null)
    }
}
