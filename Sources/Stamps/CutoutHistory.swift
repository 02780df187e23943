import AlertModel

/// Recent alerts of each object, for blink flipbooks: at most `perObject` alerts per object, none
/// older than `maxAgeDays` (by MJD, relative to the newest alert seen), at most `maxObjects` objects
/// (the least recently updated go first). Memory stays bounded whatever the stream.
package struct CutoutHistory: Sendable {
    package let perObject: Int
    package let maxAgeDays: Double
    package let maxObjects: Int
    private var alerts: [String: [Alert]] = [:]
    private var touched: [String: UInt64] = [:]
    private var clock: UInt64 = 0
    private var newestMJD = -Double.infinity

    package init(perObject: Int = 5, maxAgeDays: Double = 30, maxObjects: Int = 10_000) {
        self.perObject = perObject
        self.maxAgeDays = maxAgeDays
        self.maxObjects = maxObjects
    }

    /// Adds an alert (a repeated alert id replaces the earlier copy) and returns the object's
    /// recent alerts, oldest first, including this one.
    @discardableResult
    package mutating func add(_ alert: Alert) -> [Alert] {
        guard let object = alert.objectId else { return [alert] }
        clock += 1
        if alert.mjd.isFinite { newestMJD = max(newestMJD, alert.mjd) }
        var list = (alerts[object] ?? []).filter { $0.alertId != alert.alertId }
        list.append(alert)
        list.sort { $0.mjd < $1.mjd }
        list.removeAll { newestMJD - $0.mjd > maxAgeDays }
        if list.count > perObject { list.removeFirst(list.count - perObject) }
        alerts[object] = list
        touched[object] = clock
        if alerts.count > maxObjects, let oldest = touched.min(by: { $0.value < $1.value })?.key {
            alerts[oldest] = nil
            touched[oldest] = nil
        }
        return list
    }

    package func recent(_ object: String) -> [Alert] { alerts[object] ?? [] }
    package var objectCount: Int { alerts.count }
}
