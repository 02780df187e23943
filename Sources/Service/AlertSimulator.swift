import Avro
import AlertModel
import Stamps
import Foundation

/// Rubin-schema alerts with synthetic cutouts — a point source on a noisy sky, its template, and
/// their difference — so a newcomer can run the whole pipeline with no data at all. Deterministic
/// for a seed. Every object gets three alerts a day or two apart (a blink to watch), with the
/// earlier ones as history; about one alert in ten is a subtraction artefact (a dipole, low
/// reliability) for volunteers to reject.
package struct AlertSimulator: Sendable {
    package let seed: UInt64
    /// Cutout side in pixels (0.2 arcsec each, as Rubin's).
    package let stampSize: Int

    package init(seed: UInt64 = 1, stampSize: Int = 51) {
        self.seed = seed
        self.stampSize = stampSize
    }

    static let top = ReaderSchemas.rubin
    static let sourceSchema = nested(top, "diaSource")
    static let objectSchema = nested(top, "diaObject")

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

    struct Epoch {
        var sourceID: Int64, mjd: Double, band: String, flux: Double, fluxError: Double
    }

    /// Alert `i` as an Avro object container file (one record, the Rubin reader schema as writer).
    package func packet(_ i: Int) throws -> [UInt8] { Self.container([try record(i)]) }

    /// Records (from `record`) in one Avro object container file.
    package static func container(_ records: [[UInt8]]) -> [UInt8] {
        ContainerFile.write(schemaJSON: Array(ReaderSchemas.jsonText(for: .rubin).utf8), records: records)
    }

    /// Alert `i`'s Avro binary in the Rubin reader schema.
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
        let alert = Self.record(Self.top, [
            "alertId": .long(now.sourceID), "diaSourceId": .long(now.sourceID), "diaSource": source(now),
            "prvDiaSources": .array(epochs[0..<epoch].map(source)),
            "diaObject": .record(Self.record(Self.objectSchema, ["diaObjectId": .long(objectID), "ra": .double(ra), "dec": .double(dec)])),
            "cutoutScience": .bytes(stamps.science), "cutoutTemplate": .bytes(stamps.template), "cutoutDifference": .bytes(stamps.difference),
        ])
        return try AvroEncoder.encode(.record(alert), as: .record(Self.top))
    }

    /// Alert `i`, decoded as any Rubin alert is.
    package func alert(_ i: Int) throws -> Alert {
        guard let a = try AlertDecoder().decode(try packet(i), source: "simulated alert \(i)").first else {
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
