import Avro
import AlertModel
import Stamps
import Foundation

/// Rubin-schema alerts with synthetic cutouts — a point source on a noisy sky, its template, and
/// their difference — so a newcomer can run the whole pipeline with no data at all. Deterministic
/// for a seed. Every object gets three alerts a day or two apart (a blink to watch), with the
/// earlier ones as history; about one alert in ten is a subtraction artefact (a dipole, low
/// reliability) for volunteers to reject. The `lsstcam` profile makes them as heavy as real
/// LSSTCam packets, for benchmarks.
package struct AlertSimulator: Sendable {
    /// How much an alert carries.
    package enum Profile: String, CaseIterable, Sendable {
        /// A few fields, two previous sources at most, 51-pixel stamps (~40 kB): quick to make and read.
        case light
        /// As Rubin's LSSTCam alerts are (schema 10.0 packets in `../shared/data`): every source field
        /// filled, 300-400 previous sources, 340-780 forced sources, 88-pixel stamps (~34 kB FITS
        /// each): about 320 kB an alert (the real ones: 235 kB), the load the survey's rate means.
        case lsstcam
    }

    package let seed: UInt64
    package let profile: Profile
    /// Cutout side in pixels (0.2 arcsec each, as Rubin's).
    package let stampSize: Int

    package init(seed: UInt64 = 1, profile: Profile = .light, stampSize: Int? = nil) {
        self.seed = seed
        self.profile = profile
        self.stampSize = stampSize ?? (profile == .lsstcam ? 88 : 51)
    }

    static let top = ReaderSchemas.rubin
    static let sourceSchema = nested(top, "diaSource")
    static let objectSchema = nested(top, "diaObject")
    static let forcedSchema = nested(top, "prvDiaForcedSources")
    /// The reader schema cut to the fields an LSSTCam 10.0 packet writes (`LSSTCamLayout`).
    static let lsstcamSource = sourceSchema.keeping { LSSTCamLayout.diaSource.contains($0.name) ? $0.type : nil }
    static let lsstcamForced = forcedSchema.keeping { LSSTCamLayout.diaForcedSource.contains($0.name) ? $0.type : nil }
    static let lsstcamTop = top.keeping { field in
        guard LSSTCamLayout.alert.contains(field.name) else { return nil }
        return field.type.replacingRecords { r in
            r.name == sourceSchema.name ? lsstcamSource : r.name == forcedSchema.name ? lsstcamForced : r
        }
    }

    /// The record schema of a field that holds a record, or an array of them (null unions unwrapped).
    static func nested(_ parent: AvroRecordSchema, _ field: String) -> AvroRecordSchema {
        var t = parent.fields[parent.index(of: field)!].type.nonNull
        if case .array(let items) = t { t = items.nonNull }
        guard case .record(let r) = t else { preconditionFailure("\(field) is not a record in the Rubin reader schema") }
        return r
    }

    static func record(_ schema: AvroRecordSchema, _ values: [String: AvroValue]) -> AvroRecord {
        AvroRecord(schema: schema, values: schema.fields.map { values[$0.name] ?? .null })
    }

    /// A record with `values` and its other fields filled as a real packet's are (numbers of plausible
    /// width, flags), about one in seven null (a real 10.0 diaSource fills 73-84 of its 98).
    static func filled(_ schema: AvroRecordSchema, _ values: [String: AvroValue], rng: inout SplitMix) -> AvroRecord {
        AvroRecord(schema: schema, values: schema.fields.map { field in
            if let v = values[field.name] { return v }
            if rng.uniform(0, 1) < 0.14 { return .null }
            switch field.type.nonNull {
            case .double: return .double(rng.uniform(-1_000, 1_000))
            case .float: return .double(Double(Float(rng.uniform(-1_000, 1_000))))
            case .long: return .long(Int64(rng.uniform(0, 1e12)))
            case .int: return .long(Int64(rng.uniform(0, 1e6)))
            case .boolean: return .boolean(rng.uniform(0, 1) < 0.1)
            case .string: return .string("r")
            default: return .null
            }
        })
    }

    struct Epoch {
        var sourceID: Int64, mjd: Double, band: String, flux: Double, fluxError: Double
    }

    /// Alert `i` as an Avro object container file (one record).
    package func packet(_ i: Int) throws -> [UInt8] { container([try record(i)]) }

    /// The schema alerts are written with: the Rubin reader schema, or the 10.0 layout cut from it.
    package var writerSchema: AvroSchema { .record(profile == .lsstcam ? Self.lsstcamTop : Self.top) }
    private static let lsstcamJSON = Array(AvroSchema.record(lsstcamTop).jsonText.utf8)

    /// Records (from `record`) in one Avro object container file.
    package func container(_ records: [[UInt8]]) -> [UInt8] {
        ContainerFile.write(schemaJSON: profile == .lsstcam ? Self.lsstcamJSON : Array(ReaderSchemas.jsonText(for: .rubin).utf8), records: records)
    }

    /// Alert `i`'s Avro binary in `writerSchema`.
    package func record(_ i: Int) throws -> [UInt8] {
        let object = i / 3, epoch = i % 3
        var rng = SplitMix(seed ^ (UInt64(object) &* 0x9e37_79b9_7f4a_7c15))
        let ra = 150.0 + Double(object % 200) * 0.013 + rng.uniform(0, 0.01)
        let dec = 2.0 + Double(object / 200) * 0.013 + rng.uniform(0, 0.01)
        let peak = rng.uniform(1_500, 20_000)
        let rising = rng.uniform(0, 1) < 0.5
        let bands = ["g", "r", "i"].shuffled(using: &rng)
        let t0 = 60_950 + Double(object) * 0.02
        let epochs = (0...2).map { e -> Epoch in
            let shape = rising ? 0.5 + 0.25 * Double(e) : 1.0 - 0.25 * Double(e)
            return Epoch(sourceID: 1_000_000_000 + Int64(object * 3 + e), mjd: t0 + Double(e) * 1.6, band: bands[e],
                         flux: peak * shape, fluxError: 120 + rng.uniform(0, 80))
        }
        var alertRng = SplitMix(seed ^ 0x5eed ^ (UInt64(i) &* 0xbf58_476d_1ce4_e5b9))
        let artefact = alertRng.uniform(0, 1) < 0.1
        let now = epochs[epoch]
        let objectID = Int64(500_000_000 + object)
        func source(_ e: Epoch) -> AvroValue {
            .record(Self.record(Self.sourceSchema, [
                "diaSourceId": .long(e.sourceID), "diaObjectId": .long(objectID), "visit": .long(7_000_000 + Int64(i)),
                "detector": .long(Int64(i % 189)), "midpointMjdTai": .double(e.mjd), "ra": .double(ra), "dec": .double(dec),
                "band": .string(e.band), "psfFlux": .double(e.flux), "psfFluxErr": .double(e.fluxError),
                "snr": .double(e.flux / e.fluxError), "x": .double(Double(stampSize / 2)), "y": .double(Double(stampSize / 2)),
                "reliability": .double(artefact ? alertRng.uniform(0.05, 0.4) : alertRng.uniform(0.6, 1.0)),
                "isNegative": .boolean(false),
            ]))
        }
        let stamps = cutouts(flux: now.flux, ra: ra, dec: dec, artefact: artefact, rng: &alertRng)
        if profile == .lsstcam {
            return try lsstcamRecord(i, object: object, objectID: objectID, ra: ra, dec: dec, t0: t0, current: source(now),
                                     earlier: epochs[0..<epoch].map(source), stamps: stamps, rng: &alertRng)
        }
        let alert = Self.record(Self.top, [
            "alertId": .long(now.sourceID), "diaSourceId": .long(now.sourceID), "diaSource": source(now),
            "prvDiaSources": .array(epochs[0..<epoch].map(source)),
            "diaObject": .record(Self.record(Self.objectSchema, ["diaObjectId": .long(objectID), "ra": .double(ra), "dec": .double(dec)])),
            "cutoutScience": .bytes(stamps.science), "cutoutTemplate": .bytes(stamps.template), "cutoutDifference": .bytes(stamps.difference),
        ])
        return try AvroEncoder.encode(.record(alert), as: .record(Self.top))
    }

    /// Alert `i` as heavy as an LSSTCam one: years of earlier visits before the object's three epochs
    /// (detections, then forced measurements at its position), each with every field of a 10.0 packet.
    private func lsstcamRecord(_ i: Int, object: Int, objectID: Int64, ra: Double, dec: Double, t0: Double, current: AvroValue,
                               earlier: [AvroValue], stamps: (science: [UInt8], template: [UInt8], difference: [UInt8]),
                               rng: inout SplitMix) throws -> [UInt8] {
        func fill(_ v: AvroValue) -> AvroValue {
            guard case .record(let r) = v else { return v }
            let given = Dictionary(uniqueKeysWithValues: zip(r.schema.fields.map(\.name), r.values).filter { !$0.1.isNull })
            return .record(Self.filled(Self.lsstcamSource, given, rng: &rng))
        }
        let bands = ["u", "g", "r", "i", "z", "y"]
        let detections = 300 + Int(rng.uniform(0, 100)), measured = 340 + Int(rng.uniform(0, 440))
        let first = t0 - 1_100
        var history: [AvroValue] = (0..<detections).map { k in
            .record(Self.filled(Self.lsstcamSource, [
                "diaSourceId": .long(2_000_000_000_000 + Int64(object) * 1_000 + Int64(k)), "diaObjectId": .long(objectID),
                "midpointMjdTai": .double(first + Double(k) * 1_000 / Double(detections)), "ra": .double(ra), "dec": .double(dec),
                "band": .string(bands[k % 6]), "psfFlux": .double(rng.uniform(-300, 300)), "psfFluxErr": .double(100 + rng.uniform(0, 50)),
            ], rng: &rng))
        }
        history += earlier.map(fill)
        let forced: [AvroValue] = (0..<measured).map { k in
            .record(Self.filled(Self.lsstcamForced, [
                "diaObjectId": .long(objectID), "ra": .double(ra), "dec": .double(dec), "visit": .long(6_000_000 + Int64(k)),
                "midpointMjdTai": .double(first + Double(k) * 1_000 / Double(measured)), "band": .string(bands[k % 6]),
                "psfFlux": .double(rng.uniform(-300, 300)), "psfFluxErr": .double(100 + rng.uniform(0, 50)),
            ], rng: &rng))
        }
        guard case .record(let now) = current, let id = now["diaSourceId"].longValue else { preconditionFailure("a simulated source has an id") }
        let alert = Self.record(Self.lsstcamTop, [
            "diaSourceId": .long(id), "diaSource": fill(current), "prvDiaSources": .array(history), "prvDiaForcedSources": .array(forced),
            "diaObject": .record(Self.record(Self.objectSchema, ["diaObjectId": .long(objectID), "ra": .double(ra), "dec": .double(dec)])),
            "cutoutScience": .bytes(stamps.science), "cutoutTemplate": .bytes(stamps.template), "cutoutDifference": .bytes(stamps.difference),
        ])
        return try AvroEncoder.encode(.record(alert), as: writerSchema)
    }

    /// Alert `i`, decoded as any Rubin alert is.
    package func alert(_ i: Int) throws -> Alert { try alert(i, decoder: AlertDecoder()) }

    /// Alerts `indices`, by one decoder: it compiles the writer schema once, where a decoder for
    /// each alert parses and plans it again (in a debug build, most of the time of thousands).
    package func alerts(_ indices: some Sequence<Int>) throws -> [Alert] {
        let decoder = AlertDecoder()
        return try indices.map { try alert($0, decoder: decoder) }
    }

    /// Alert `i`, by `decoder` (one for many alerts, so that it compiles the writer schema once).
    package func alert(_ i: Int, decoder: AlertDecoder) throws -> Alert {
        guard let a = try decoder.decode(try packet(i), source: "simulated alert \(i)").first else {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "simulated alert \(i) decoded to nothing", offset: 0)
        }
        return a
    }

    /// Science, template and difference stamps (FITS, nJy per pixel) with a TAN WCS, north up.
    func cutouts(flux: Double, ra: Double, dec: Double, artefact: Bool, rng: inout SplitMix) -> (science: [UInt8], template: [UInt8], difference: [UInt8]) {
        let n = stampSize, c = Double(n - 1) / 2
        let sigma = rng.uniform(1.4, 2.2), noise = 12.0
        let galaxy = rng.uniform(0, 1) < 0.6
        let gx = c + rng.uniform(-6, 6), gy = c + rng.uniform(-6, 6), gAmp = rng.uniform(20, 120), gSize = rng.uniform(3, 7)
        var science = [Float](repeating: 0, count: n * n), template = science, difference = science
        let amp = flux / (2 * .pi * sigma * sigma)
        for y in 0..<n {
            for x in 0..<n {
                let dx = Double(x) - c, dy = Double(y) - c
                let psf = exp(-(dx * dx + dy * dy) / (2 * sigma * sigma))
                let host = galaxy ? gAmp * exp(-((Double(x) - gx) * (Double(x) - gx) + (Double(y) - gy) * (Double(y) - gy)) / (2 * gSize * gSize)) : 0
                let sky = 40.0
                let point: Double
                if artefact {
                    // A misaligned subtraction: positive and negative lobes side by side.
                    let off = 1.2
                    let a = exp(-((dx - off) * (dx - off) + dy * dy) / (2 * sigma * sigma)), b = exp(-((dx + off) * (dx + off) + dy * dy) / (2 * sigma * sigma))
                    point = amp * 0.6 * (a - b)
                } else {
                    point = amp * psf
                }
                let t = sky + host + rng.gaussian() * noise * 0.5
                let s = sky + host + (artefact ? 0 : amp * psf) + rng.gaussian() * noise
                template[y * n + x] = Float(t)
                science[y * n + x] = Float(s)
                difference[y * n + x] = Float(point + rng.gaussian() * noise * 1.1)
            }
        }
        let wcs: [(String, String)] = [
            ("CTYPE1", "RA---TAN"), ("CTYPE2", "DEC--TAN"), ("CRPIX1", String(c + 1)), ("CRPIX2", String(c + 1)),
            ("CRVAL1", String(ra)), ("CRVAL2", String(dec)), ("CD1_1", String(-0.2 / 3600)), ("CD1_2", "0.0"),
            ("CD2_1", "0.0"), ("CD2_2", String(0.2 / 3600)), ("BUNIT", "nJy"), ("ORIGIN", "citsci simulate"),
        ]
        func fits(_ p: [Float]) -> [UInt8] { FITSImage(width: n, height: n, pixels: p).fitsData(keywords: wcs) }
        return (fits(science), fits(template), fits(difference))
    }
}

/// SplitMix64, with the two draws the simulator needs.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(next() >> 11) / Double(1 << 53) }
    mutating func gaussian() -> Double {
        let u = max(uniform(0, 1), 1e-300), v = uniform(0, 1)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
