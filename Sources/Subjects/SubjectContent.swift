import Basics
import AlertModel
import Stamps
import Foundation

/// A subject ready for a set: its id, its frames in order (PNG images, then optionally the light
/// curve as JSON) and its metadata.
package struct SubjectDraft: Sendable {
    package var externalID: String
    package var objectID: String?
    package var frames: [(name: String, bytes: [UInt8])]
    package var metadata: [(key: String, value: String)]

    package init(externalID: String, objectID: String?, frames: [(name: String, bytes: [UInt8])], metadata: [(key: String, value: String)]) {
        self.externalID = externalID
        self.objectID = objectID
        self.frames = frames
        self.metadata = metadata
    }

    package var row: ManifestRow { ManifestRow(externalID: externalID, frames: frames.map(\.name), metadata: metadata) }
}

/// Which filter chose a subject, and at which version of its file.
package struct FilterStamp: Sendable, Equatable {
    package var name: String
    package var version: String
    package init(name: String, version: String) { self.name = name; self.version = version }
}

/// What a subject shows and says. Keys starting with `#` are hidden from volunteers but come back
/// in classification exports: they are the join key from a volunteer's verdict to the alert
/// (`#alert_id`, and the survey's own ids) and say how the subject was made (`#filter`,
/// `#filter_version`, `#render`). `#priority` is Panoptes's and is never set here.
package enum SubjectContent {
    /// Every metadata key citsci writes, in manifest column order. `#previous_subject_ids` is
    /// added at push time (it needs Zooniverse's ids of the object's earlier subjects).
    package static let metadataKeys = [
        "survey", "band", "magnitude", "date", "ra", "dec",
        "#alert_id", "#survey", "#object_id", "#diaSourceId", "#diaObjectId", "#objectId", "#candid",
        "#filter", "#filter_version", "#render", "#flipbook", "#previous_alert_ids",
    ]

    /// `#previous_alert_ids` and `#previous_subject_ids` name at most this many of the object's
    /// latest subjects: a long-lived variable would otherwise make every new subject's metadata,
    /// and the look-up behind it, grow with its whole history.
    package static let maxPreviousIDs = 20

    /// The subject of an alert; `lightCurve` is its light curve's JSON (`lightCurve(_:)`), when
    /// subjects carry one and the alert has a point to plot.
    package static func draft(alert: Alert, flipbook: Flipbook, filters: [FilterStamp], previousAlertIDs: [String],
                             lightCurve: [UInt8]?) -> SubjectDraft {
        let id = String(alert.alertId)
        var frames = flipbook.frames.enumerated().map { i, f in (name: "\(id)_\(i + 1).png", bytes: f.png) }
        if let lightCurve { frames.append((name: "\(id)_lightcurve.json", bytes: lightCurve)) }
        func f(_ x: Double?, _ digits: Int) -> String? { x.flatMap { $0.isFinite ? String(format: "%.\(digits)f", $0) : nil } }
        var meta: [(String, String?)] = [
            ("survey", alert.survey == .rubin ? "Rubin/LSST" : "ZTF"),
            ("band", alert.band),
            ("magnitude", f(alert.magnitude, 2).map { m in f(alert.magnitudeError, 2).map { "\(m) ± \($0)" } ?? m }),
            ("date", FlipbookRenderer.utcDate(mjd: alert.mjd).map { $0 + " UTC" }),
            ("ra", f(alert.ra, 6)),
            ("dec", f(alert.dec, 6)),
            ("#alert_id", id),
            ("#survey", alert.survey.rawValue),
            ("#object_id", alert.objectId),
        ]
        switch alert.survey {
        case .rubin:
            meta += [("#diaSourceId", alert.sourceId.map(String.init)), ("#diaObjectId", alert.objectId)]
        case .ztf:
            meta += [("#objectId", alert.objectId), ("#candid", String(alert.alertId))]
        }
        meta += [
            ("#filter", filters.map(\.name).joined(separator: ";")),
            ("#filter_version", filters.map { "\($0.name)=\($0.version)" }.joined(separator: ";")),
            ("#render", flipbook.settings.description),
            ("#flipbook", flipbook.kind.rawValue),
            ("#previous_alert_ids", previousAlertIDs.isEmpty ? nil : previousAlertIDs.joined(separator: ";")),
        ]
        return SubjectDraft(externalID: id, objectID: alert.objectId, frames: frames,
                            metadata: meta.compactMap { k, v in v.map { (key: k, value: $0) } })
    }

    static let bandColours = ["u": "#6a3d9a", "g": "#1a9850", "r": "#d73027", "i": "#f46d43", "z": "#74add1", "y": "#4d4d4d"]

    /// The object's detections (history and this alert) as a Zooniverse scatter plot, one series per
    /// band: `{"data":[{"seriesData":[{"x":mjd,"y":flux}],"seriesOptions":{"label":"r","color":"#d73027"}}],
    /// "chartOptions":{...}}`; flux in nJy (from the magnitude where only that is given). Nil when
    /// there is no point to plot.
    package static func lightCurve(_ alert: Alert) -> [UInt8]? {
        var points = alert.history.filter(\.isDetection)
        points.append(Photometry(mjd: alert.mjd, band: alert.band, flux: alert.flux, fluxError: alert.fluxError,
                                 magnitude: alert.magnitude, magnitudeError: alert.magnitudeError,
                                 limitingMagnitude: nil, isDetection: true, sourceId: alert.sourceId))
        var series: [String: [JSONValue]] = [:]
        for p in points.sorted(by: { $0.mjd < $1.mjd }) where p.mjd.isFinite {
            guard let flux = p.flux ?? p.magnitude.map(Photometric.flux(magnitude:)), flux.isFinite else { continue }
            series[p.band ?? "?", default: []].append(["x": .number((p.mjd * 1e5).rounded() / 1e5), "y": .number((flux * 100).rounded() / 100)])
        }
        guard !series.isEmpty else { return nil }
        let order = ["u", "g", "r", "i", "z", "y"]
        let bands = series.keys.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        let data: [JSONValue] = bands.map { b in
            ["seriesData": .array(series[b]!),
             "seriesOptions": ["label": .string(b), "color": .string(bandColours[b] ?? "#000000")]]
        }
        let doc: JSONValue = ["data": .array(data),
                              "chartOptions": ["xAxisLabel": "MJD", "yAxisLabel": "difference flux (nJy)"]]
        return doc.encoded()
    }
}
