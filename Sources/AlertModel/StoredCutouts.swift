/// One stored alert's stamps, for blinks.
package struct StoredCutouts: Sendable, Equatable {
    package let alertId: Int64
    package let objectId: String
    package let mjd: Double
    package let band: String?
    package let science: [UInt8]?
    package let template: [UInt8]?
    package let difference: [UInt8]?

    package init(alertId: Int64, objectId: String, mjd: Double, band: String?, science: [UInt8]?, template: [UInt8]?, difference: [UInt8]?) {
        self.alertId = alertId; self.objectId = objectId; self.mjd = mjd; self.band = band
        self.science = science; self.template = template; self.difference = difference
    }
}
