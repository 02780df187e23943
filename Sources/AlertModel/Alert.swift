/// The survey an alert comes from.
public enum Survey: String, Sendable, Codable, CaseIterable {
    case ztf, rubin
}

/// One point of an object's light curve: a detection, an upper limit or a forced measurement.
package struct Photometry: Sendable, Equatable {
    package var mjd: Double
    package var band: String?
    /// Difference-image flux in nJy (AB: 0 mag = 3631 Jy, so mag = 31.4 − 2.5 log10 flux).
    package var flux: Double?
    package var fluxError: Double?
    package var magnitude: Double?
    package var magnitudeError: Double?
    /// 5σ limiting magnitude, for ZTF non-detections.
    package var limitingMagnitude: Double?
    /// False for an upper limit (a non-detection) or a forced measurement.
    package var isDetection: Bool
    package var sourceId: Int64?

    package init(mjd: Double, band: String?, flux: Double?, fluxError: Double?, magnitude: Double?, magnitudeError: Double?,
                limitingMagnitude: Double?, isDetection: Bool, sourceId: Int64?) {
        self.mjd = mjd
        self.band = band
        self.flux = flux
        self.fluxError = fluxError
        self.magnitude = magnitude
        self.magnitudeError = magnitudeError
        self.limitingMagnitude = limitingMagnitude
        self.isDetection = isDetection
        self.sourceId = sourceId
    }
}

/// A FITS stamp as it arrived: bytes (gzip-compressed for ZTF, plain for Rubin) and its file name if given.
package struct Cutout: Sendable, Equatable {
    package var fileName: String?
    package var data: [UInt8]
}

package struct Cutouts: Sendable, Equatable {
    package var science: Cutout?
    package var template: Cutout?
    package var difference: Cutout?
}

/// One alert, from any survey and schema version, in one model. Fields the model does not name stay
/// reachable through `record` (the whole packet, in the reader schema's layout) by a `FieldPath`.
///
/// A value type whose fields live in one immutable box: copying an alert (into a task, a queue, a
/// loop variable) is one retain instead of one per array and string inside it, and reading a field
/// is a load through `let`s. Setting a field copies the box (alerts are set once, when decoded).
/// `public` with its scalar accessors only: filters read them per alert and rule from another
/// module, and the compiler inlines across modules only what is `public` and `@inlinable` (a
/// `package` accessor stays a call, with a retain and a release around it: one-field filters ran
/// 6x slower). The rest of an alert (history, cutouts, the record) stays `package`.
public struct Alert: Sendable {
    @usableFromInline
    struct Fields: Sendable {
        @usableFromInline var survey: Survey
        @usableFromInline var alertId: Int64
        @usableFromInline var sourceId: Int64?
        @usableFromInline var objectId: String?
        @usableFromInline var mjd: Double
        @usableFromInline var ra: Double
        @usableFromInline var dec: Double
        @usableFromInline var band: String?
        @usableFromInline var flux: Double?
        @usableFromInline var fluxError: Double?
        @usableFromInline var magnitude: Double?
        @usableFromInline var magnitudeError: Double?
        @usableFromInline var snr: Double?
        @usableFromInline var reliability: Double?
        @usableFromInline var schemaVersion: String?
        var history: [Photometry]
        var forcedPhotometry: [Photometry]
        var cutouts: Cutouts
        var record: AvroRecord
        @usableFromInline var scalars: [Double] = []
        /// History, forced photometry and the record's arrays, still in the packet's bytes: read
        /// when first asked for (most alerts match no filter and never are).
        var deferred: DeferredParts? = nil

        /// The fields with every deferred part read in.
        func whole() -> Fields {
            guard let deferred else { return self }
            let parts = deferred.parts(head: record)
            var f = self
            f.record = parts.record
            f.history = parts.history
            f.forcedPhotometry = parts.forcedPhotometry
            f.deferred = nil
            return f
        }
    }

    @usableFromInline
    final class Box: Sendable {
        @usableFromInline let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    @usableFromInline var box: Box

    package init(survey: Survey, alertId: Int64, sourceId: Int64?, objectId: String?, mjd: Double, ra: Double, dec: Double, band: String?, flux: Double?, fluxError: Double?, magnitude: Double?, magnitudeError: Double?, snr: Double?, reliability: Double?, schemaVersion: String?, history: [Photometry], forcedPhotometry: [Photometry], cutouts: Cutouts, record: AvroRecord, scalars: [Double] = []) {
        box = Box(Fields(survey: survey, alertId: alertId, sourceId: sourceId, objectId: objectId, mjd: mjd, ra: ra, dec: dec, band: band, flux: flux, fluxError: fluxError, magnitude: magnitude, magnitudeError: magnitudeError, snr: snr, reliability: reliability, schemaVersion: schemaVersion, history: history, forcedPhotometry: forcedPhotometry, cutouts: cutouts, record: record, scalars: scalars))
    }

    /// The alert with `deferred` as the source of its history, forced photometry and record arrays.
    func deferring(_ deferred: DeferredParts) -> Alert {
        var f = box.fields
        f.deferred = deferred
        var copy = self
        copy.box = Box(f)
        return copy
    }

    /// Whether the history and the record's arrays have been read (for tests and benchmarks).
    package var isWhole: Bool { box.fields.deferred?.isRead ?? true }

    private mutating func set(_ change: (inout Fields) -> Void) {
        var f = box.fields.whole()
        change(&f)
        box = Box(f)
    }

    public var survey: Survey {
        @inlinable get { box.fields.survey }
        set { set { $0.survey = newValue } }
    }
    /// The alert's id: ZTF `candid`; Rubin `diaSourceId` (8.0 and later) or `alertId` (7.x).
    public var alertId: Int64 {
        @inlinable get { box.fields.alertId }
        set { set { $0.alertId = newValue } }
    }
    /// The detection's id: ZTF `candid`, Rubin `diaSource.diaSourceId`.
    public var sourceId: Int64? {
        @inlinable get { box.fields.sourceId }
        set { set { $0.sourceId = newValue } }
    }
    /// The object's id: ZTF `objectId` (`ZTF18aaxjdyr`), Rubin `diaObjectId` in decimal.
    public var objectId: String? {
        @inlinable get { box.fields.objectId }
        set { set { $0.objectId = newValue } }
    }
    public var mjd: Double {
        @inlinable get { box.fields.mjd }
        set { set { $0.mjd = newValue } }
    }
    public var ra: Double {
        @inlinable get { box.fields.ra }
        set { set { $0.ra = newValue } }
    }
    public var dec: Double {
        @inlinable get { box.fields.dec }
        set { set { $0.dec = newValue } }
    }
    public var band: String? {
        @inlinable get { box.fields.band }
        set { set { $0.band = newValue } }
    }
    public var flux: Double? {
        @inlinable get { box.fields.flux }
        set { set { $0.flux = newValue } }
    }
    public var fluxError: Double? {
        @inlinable get { box.fields.fluxError }
        set { set { $0.fluxError = newValue } }
    }
    public var magnitude: Double? {
        @inlinable get { box.fields.magnitude }
        set { set { $0.magnitude = newValue } }
    }
    public var magnitudeError: Double? {
        @inlinable get { box.fields.magnitudeError }
        set { set { $0.magnitudeError = newValue } }
    }
    public var snr: Double? {
        @inlinable get { box.fields.snr }
        set { set { $0.snr = newValue } }
    }
    /// Real/bogus score: ZTF `drb` (or `rb` before it existed), Rubin `reliability`.
    public var reliability: Double? {
        @inlinable get { box.fields.reliability }
        set { set { $0.reliability = newValue } }
    }
    /// The writer schema's version (`3.3`, `9.0`) when the packet says it.
    public var schemaVersion: String? {
        @inlinable get { box.fields.schemaVersion }
        set { set { $0.schemaVersion = newValue } }
    }
    /// Previous detections and upper limits, oldest first.
    package var history: [Photometry] {
        get { box.fields.deferred?.parts(head: box.fields.record).history ?? box.fields.history }
        set { set { $0.history = newValue } }
    }
    /// Forced photometry at the object's position, oldest first.
    package var forcedPhotometry: [Photometry] {
        get { box.fields.deferred?.parts(head: box.fields.record).forcedPhotometry ?? box.fields.forcedPhotometry }
        set { set { $0.forcedPhotometry = newValue } }
    }
    package var cutouts: Cutouts {
        get { box.fields.cutouts }
        set { set { $0.cutouts = newValue } }
    }
    /// The whole packet in the reader schema's layout.
    package var record: AvroRecord {
        get { box.fields.deferred?.parts(head: box.fields.record).record ?? box.fields.record }
        set { set { $0.record = newValue } }
    }
    /// The record's numbers outside arrays, flat (`ScalarColumns`); read through `FieldPath.slot`.
    public var scalars: [Double] {
        @inlinable get { box.fields.scalars }
        set { set { $0.scalars = newValue } }
    }

    /// The value at a compiled path (`.null` when any step is null or absent). A path that does not
    /// start in a deferred array reads the record as decoded, without reading the arrays.
    package func value(at path: FieldPath) -> AvroValue { path.value(in: record(for: path)) }

    /// A numeric leaf (NaN when null or absent), as `value(at:)`.
    package func number(at path: FieldPath) -> Double { path.number(in: record(for: path)) }

    private func record(for path: FieldPath) -> AvroRecord {
        if let deferred = box.fields.deferred, !deferred.defers(path.steps[0]) { return box.fields.record }
        return record
    }
}

extension Alert {
    /// A line for people: ids, position, band, magnitude, cutout sizes.
    package var summary: String {
        func f(_ x: Double?, _ digits: Int) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }
        let sizes = [cutouts.science, cutouts.template, cutouts.difference]
            .map { $0.map { String($0.data.count) } ?? "-" }.joined(separator: "/")
        return "\(survey.rawValue) alert \(alertId) object \(objectId ?? "-") mjd \(f(mjd, 5)) "
            + "ra \(f(ra, 6)) dec \(f(dec, 6)) band \(band ?? "-") mag \(f(magnitude, 3))±\(f(magnitudeError, 3)) "
            + "snr \(f(snr, 1)) rb \(f(reliability, 3)) history \(history.count) forced \(forcedPhotometry.count) "
            + "cutouts \(sizes) B"
    }
}

/// AB magnitudes and nJy fluxes: mag = 31.4 − 2.5 log10(flux / nJy).
package enum Photometric {
    package static let zeroPointNJy = 31.4

    package static func magnitude(fluxNJy flux: Double) -> Double? {
        guard flux > 0, flux.isFinite else { return nil }
        return zeroPointNJy - 2.5 * log10(flux)
    }

    package static func magnitudeError(fluxNJy flux: Double, error: Double) -> Double? {
        guard flux != 0, flux.isFinite, error.isFinite else { return nil }
        return 2.5 / log(10.0) * abs(error / flux)
    }

    package static func flux(magnitude: Double) -> Double { pow(10, (zeroPointNJy - magnitude) / 2.5) }
}

import Avro
import Foundation
