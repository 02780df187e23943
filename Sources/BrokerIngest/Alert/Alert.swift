/// The survey an alert comes from.
public enum Survey: String, Sendable, Codable, CaseIterable {
    case ztf, rubin
}

/// One point of an object's light curve: a detection, an upper limit or a forced measurement.
public struct Photometry: Sendable, Equatable {
    public var mjd: Double
    public var band: String?
    /// Difference-image flux in nJy (AB: 0 mag = 3631 Jy, so mag = 31.4 − 2.5 log10 flux).
    public var flux: Double?
    public var fluxError: Double?
    public var magnitude: Double?
    public var magnitudeError: Double?
    /// 5σ limiting magnitude, for ZTF non-detections.
    public var limitingMagnitude: Double?
    /// False for an upper limit (a non-detection) or a forced measurement.
    public var isDetection: Bool
    public var sourceId: Int64?

    public init(mjd: Double, band: String?, flux: Double?, fluxError: Double?, magnitude: Double?, magnitudeError: Double?,
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
public struct Cutout: Sendable, Equatable {
    public var fileName: String?
    public var data: [UInt8]
}

public struct Cutouts: Sendable, Equatable {
    public var science: Cutout?
    public var template: Cutout?
    public var difference: Cutout?
}

/// One alert, from any survey and schema version, in one model. Fields the model does not name stay
/// reachable through `record` (the whole packet, in the reader schema's layout) by a `FieldPath`.
public struct Alert: Sendable {
    public var survey: Survey
    /// The alert's id: ZTF `candid`; Rubin `diaSourceId` (8.0 and later) or `alertId` (7.x).
    public var alertId: Int64
    /// The detection's id: ZTF `candid`, Rubin `diaSource.diaSourceId`.
    public var sourceId: Int64?
    /// The object's id: ZTF `objectId` (`ZTF18aaxjdyr`), Rubin `diaObjectId` in decimal.
    public var objectId: String?
    public var mjd: Double
    public var ra: Double
    public var dec: Double
    public var band: String?
    public var flux: Double?
    public var fluxError: Double?
    public var magnitude: Double?
    public var magnitudeError: Double?
    public var snr: Double?
    /// Real/bogus score: ZTF `drb` (or `rb` before it existed), Rubin `reliability`.
    public var reliability: Double?
    /// The writer schema's version (`3.3`, `9.0`) when the packet says it.
    public var schemaVersion: String?
    /// Previous detections and upper limits, oldest first.
    public var history: [Photometry]
    /// Forced photometry at the object's position, oldest first.
    public var forcedPhotometry: [Photometry]
    public var cutouts: Cutouts
    /// The whole packet in the reader schema's layout.
    public var record: AvroRecord

    /// The value at a compiled path (`.null` when any step is null or absent).
    public func value(at path: FieldPath) -> AvroValue { path.value(in: record) }
}

extension Alert {
    /// A line for people: ids, position, band, magnitude, cutout sizes.
    public var summary: String {
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
public enum Photometric {
    public static let zeroPointNJy = 31.4

    public static func magnitude(fluxNJy flux: Double) -> Double? {
        guard flux > 0, flux.isFinite else { return nil }
        return zeroPointNJy - 2.5 * log10(flux)
    }

    public static func magnitudeError(fluxNJy flux: Double, error: Double) -> Double? {
        guard flux != 0, flux.isFinite, error.isFinite else { return nil }
        return 2.5 / log(10.0) * abs(error / flux)
    }

    public static func flux(magnitude: Double) -> Double { pow(10, (zeroPointNJy - magnitude) / 2.5) }
}

import Foundation
