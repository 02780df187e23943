import Foundation
import State
import Testing
import TestSupport

/// The window of recent alerts: newest kept up to its size, an alert once, read back page by page
/// (the shared check; on PostgreSQL in `PostgresDatabaseTests`).
@Suite struct RecentAlertsTests {
    @Test func keepsTheNewestAndEachAlertOnce() throws {
        try checkRecentAlertsWindow(try StateStore(path: ":memory:"))
    }
}
