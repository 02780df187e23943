import Avro
import Foundation

/// Maps a record in a reader schema onto `Alert`. Field indexes are looked up once, at start-up.
struct AlertMapping: Sendable {
    let survey: Survey
    let scalars: ScalarColumns.Plan

    init(survey: Survey) {
        self.survey = survey
        scalars = ScalarColumns.Plan(ReaderSchemas.schema(for: survey))
    }

    /// The alert of a whole record, or of a record whose arrays are still `deferred` (null in
    /// `record`): the history and forced photometry are then worked out when first asked for.
    func alert(from record: AvroRecord, schemaVersion: String?, deferred: DeferredParts? = nil) throws(AlertDecodingError) -> Alert {
        let photometry = deferred == nil ? photometry(of: record) : ([], [])
        var alert = switch survey {
        case .ztf: try ZTF.alert(record, schemaVersion: schemaVersion, history: photometry.0, forced: photometry.1)
        case .rubin: try Rubin.alert(record, schemaVersion: schemaVersion, history: photometry.0, forced: photometry.1)
        }
        alert.scalars = scalars.values(of: record)
        return deferred.map { alert.deferring($0) } ?? alert
    }

    /// History (detections and limits) and forced photometry, oldest first, from a whole record.
    func photometry(of record: AvroRecord) -> (history: [Photometry], forced: [Photometry]) {
        switch survey {
        case .ztf: ZTF.photometry(record)
        case .rubin: Rubin.photometry(record)
        }
    }
}

/// Compiled paths: a missing field in our own reader schema is a programming error, caught by tests.
private func path(_ text: String, _ schema: AvroRecordSchema) -> FieldPath {
    do { return try FieldPath(text, in: schema) } catch { preconditionFailure("\(error)") }
}

private extension AvroRecord {
    @inline(__always) func double(_ i: Int) -> Double? { values[i].doubleValue }
    @inline(__always) func long(_ i: Int) -> Int64? { values[i].longValue }
    @inline(__always) func string(_ i: Int) -> String? { values[i].stringValue }
    @inline(__always) func record(_ i: Int) -> AvroRecord? { values[i].recordValue }
    @inline(__always) func array(_ i: Int) -> [AvroValue] { values[i].arrayValue ?? [] }
    /// The first non-null of two fields: a field and its older name (Rubin renamed several in 7.0).
    @inline(__always) func double(_ i: Int, or j: Int) -> Double? { values[i].doubleValue ?? values[j].doubleValue }
    @inline(__always) func string(_ i: Int, or j: Int) -> String? { values[i].stringValue ?? values[j].stringValue }
}

private func index(_ schema: AvroRecordSchema, _ name: String) -> Int {
    guard let i = schema.index(of: name) else { preconditionFailure("reader schema \(schema.name) lacks \(name)") }
    return i
}

private func recordSchema(_ schema: AvroRecordSchema, _ field: String) -> AvroRecordSchema {
    var t = schema.fields[index(schema, field)].type.nonNull
    if case .array(let items) = t { t = items.nonNull }
    guard case .record(let r) = t else { preconditionFailure("\(field) is not a record") }
    return r
}

private enum ZTF {
    static let top = ReaderSchemas.ztf
    static let candidate = recordSchema(top, "candidate")
    static let prv = recordSchema(top, "prv_candidates")
    static let fp = recordSchema(top, "fp_hists")
    static let cutout = recordSchema(top, "cutoutScience")

    static let iCandid = index(top, "candid"), iObjectId = index(top, "objectId"), iSchemavsn = index(top, "schemavsn")
    static let iCandidate = index(top, "candidate"), iPrv = index(top, "prv_candidates"), iFp = index(top, "fp_hists")
    static let iScience = index(top, "cutoutScience"), iTemplate = index(top, "cutoutTemplate"), iDifference = index(top, "cutoutDifference")
    static let cCandid = index(candidate, "candid"), cJd = index(candidate, "jd"), cFid = index(candidate, "fid")
    static let cRa = index(candidate, "ra"), cDec = index(candidate, "dec"), cMag = index(candidate, "magpsf")
    static let cSigma = index(candidate, "sigmapsf"), cRb = index(candidate, "rb"), cDrb = index(candidate, "drb")
    static let cDiffpos = index(candidate, "isdiffpos")
    static let pCandid = index(prv, "candid"), pJd = index(prv, "jd"), pFid = index(prv, "fid"), pMag = index(prv, "magpsf")
    static let pSigma = index(prv, "sigmapsf"), pLim = index(prv, "diffmaglim"), pDiffpos = index(prv, "isdiffpos")
    static let fJd = index(fp, "jd"), fFid = index(fp, "fid"), fFlux = index(fp, "forcediffimflux")
    static let fFluxUnc = index(fp, "forcediffimfluxunc"), fZp = index(fp, "magzpsci")
    static let kName = index(cutout, "fileName"), kData = index(cutout, "stampData")

    static func band(_ fid: Int64?) -> String? {
        switch fid { case 1: "g"; case 2: "r"; case 3: "i"; default: fid.map { "fid\($0)" } }
    }

    /// ZTF reports magnitudes of the difference image; `isdiffpos` says whether the flux is positive.
    static func signedFlux(mag: Double?, sigma: Double?, diffpos: String?) -> (Double?, Double?) {
        guard let mag else { return (nil, nil) }
        let sign: Double = (diffpos == "f" || diffpos == "0") ? -1 : 1
        let flux = Photometric.flux(magnitude: mag)
        return (sign * flux, sigma.map { flux * $0 * log(10.0) / 2.5 })
    }

    static func photometry(_ r: AvroRecord) -> (history: [Photometry], forced: [Photometry]) {
        let history: [Photometry] = r.array(iPrv).compactMap { v -> Photometry? in
            guard let p = v.recordValue, let jd = p.double(pJd) else { return nil }
            let pm = p.double(pMag), ps = p.double(pSigma)
            let (pf, pfe) = signedFlux(mag: pm, sigma: ps, diffpos: p.string(pDiffpos))
            return Photometry(mjd: jd - 2_400_000.5, band: band(p.long(pFid)), flux: pf, fluxError: pfe,
                              magnitude: pm, magnitudeError: ps, limitingMagnitude: p.double(pLim),
                              isDetection: p.long(pCandid) != nil && pm != nil, sourceId: p.long(pCandid))
        }.sorted { $0.mjd < $1.mjd }
        let forced: [Photometry] = r.array(iFp).compactMap { v -> Photometry? in
            guard let p = v.recordValue, let jd = p.double(fJd) else { return nil }
            // ZTF marks missing forced fluxes with -99999; fluxes are in DN at zero point magzpsci.
            let scale = p.double(fZp).map { pow(10, (Photometric.zeroPointNJy - $0) / 2.5) }
            let raw = p.double(fFlux).flatMap { $0 <= -99_999 ? nil : $0 }
            let rawErr = p.double(fFluxUnc).flatMap { $0 <= -99_999 ? nil : $0 }
            let flux = raw.flatMap { f in scale.map { f * $0 } }
            let err = rawErr.flatMap { e in scale.map { e * $0 } }
            return Photometry(mjd: jd - 2_400_000.5, band: band(p.long(fFid)), flux: flux, fluxError: err,
                              magnitude: flux.flatMap { Photometric.magnitude(fluxNJy: $0) },
                              magnitudeError: flux.flatMap { f in err.flatMap { Photometric.magnitudeError(fluxNJy: f, error: $0) } },
                              limitingMagnitude: nil, isDetection: false, sourceId: nil)
        }.sorted { $0.mjd < $1.mjd }
        return (history, forced)
    }

    static func alert(_ r: AvroRecord, schemaVersion: String?, history: [Photometry], forced: [Photometry]) throws(AlertDecodingError) -> Alert {
        guard let c = r.record(iCandidate) else {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "ZTF alert without a candidate record", offset: 0)
        }
        guard let candid = r.long(iCandid) ?? c.long(cCandid) else {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "ZTF alert without a candid", offset: 0)
        }
        let mag = c.double(cMag), sigma = c.double(cSigma)
        let (flux, fluxErr) = signedFlux(mag: mag, sigma: sigma, diffpos: c.string(cDiffpos))
        func stamp(_ i: Int) -> Cutout? {
            guard let s = r.record(i), let data = s.values[kData].bytesValue else { return nil }
            return Cutout(fileName: s.string(kName), data: data)
        }
        return Alert(
            survey: .ztf, alertId: candid, sourceId: c.long(cCandid) ?? candid, objectId: r.string(iObjectId),
            mjd: (c.double(cJd) ?? .nan) - 2_400_000.5, ra: c.double(cRa) ?? .nan, dec: c.double(cDec) ?? .nan,
            band: band(c.long(cFid)), flux: flux, fluxError: fluxErr, magnitude: mag, magnitudeError: sigma,
            snr: sigma.flatMap { $0 > 0 ? 2.5 / log(10.0) / $0 : nil },
            reliability: c.double(cDrb) ?? c.double(cRb),
            schemaVersion: r.string(iSchemavsn) ?? schemaVersion,
            history: history, forcedPhotometry: forced,
            cutouts: Cutouts(science: stamp(iScience), template: stamp(iTemplate), difference: stamp(iDifference)),
            record: r)
    }
}

private enum Rubin {
    static let top = ReaderSchemas.rubin
    static let source = recordSchema(top, "diaSource")
    static let forced = recordSchema(top, "prvDiaForcedSources")
    static let limits = recordSchema(top, "prvDiaNondetectionLimits")
    static let object = recordSchema(top, "diaObject")

    static let iDiaSourceId = index(top, "diaSourceId"), iAlertId = index(top, "alertId")
    static let iSource = index(top, "diaSource"), iPrv = index(top, "prvDiaSources"), iForced = index(top, "prvDiaForcedSources")
    static let iLimits = index(top, "prvDiaNondetectionLimits"), iObject = index(top, "diaObject")
    static let iScience = index(top, "cutoutScience"), iTemplate = index(top, "cutoutTemplate"), iDifference = index(top, "cutoutDifference")
    static let sId = index(source, "diaSourceId"), sObject = index(source, "diaObjectId"), sSsObject = index(source, "ssObjectId")
    static let sMjd = index(source, "midpointMjdTai"), sRa = index(source, "ra"), sDec = index(source, "dec")
    static let sBand = index(source, "band"), sFlux = index(source, "psfFlux"), sFluxErr = index(source, "psfFluxErr")
    static let sSnr = index(source, "snr"), sReliability = index(source, "reliability")
    static let fMjd = index(forced, "midpointMjdTai"), fBand = index(forced, "band")
    static let fFlux = index(forced, "psfFlux"), fFluxErr = index(forced, "psfFluxErr")
    static let lMjd = index(limits, "midpointMjdTai"), lBand = index(limits, "band"), lNoise = index(limits, "diaNoise")
    static let oId = index(object, "diaObjectId")
    // Names used by schemas 3.0-6.x.
    static let sOldMjd = index(source, "midPointTai"), sOldDec = index(source, "decl"), sOldBand = index(source, "filterName")
    static let sOldFlux = index(source, "psFlux"), sOldFluxErr = index(source, "psFluxErr")
    static let fOldMjd = index(forced, "midPointTai"), fOldBand = index(forced, "filterName")
    static let fOldFlux = index(forced, "psFlux"), fOldFluxErr = index(forced, "psFluxErr")

    static func point(_ s: AvroRecord, detection: Bool) -> Photometry? {
        guard let mjd = s.double(sMjd, or: sOldMjd) else { return nil }
        let flux = s.double(sFlux, or: sOldFlux), err = s.double(sFluxErr, or: sOldFluxErr)
        return Photometry(mjd: mjd, band: s.string(sBand, or: sOldBand), flux: flux, fluxError: err,
                          magnitude: flux.flatMap { Photometric.magnitude(fluxNJy: $0) },
                          magnitudeError: flux.flatMap { f in err.flatMap { Photometric.magnitudeError(fluxNJy: f, error: $0) } },
                          limitingMagnitude: nil, isDetection: detection, sourceId: s.long(sId))
    }

    static func photometry(_ r: AvroRecord) -> (history: [Photometry], forced: [Photometry]) {
        var history = r.array(iPrv).compactMap { $0.recordValue.flatMap { point($0, detection: true) } }
        for v in r.array(iLimits) {
            guard let l = v.recordValue, let mjd = l.double(lMjd) else { continue }
            // diaNoise is the 1σ flux noise (nJy): the 5σ limit follows.
            let lim = l.double(lNoise).flatMap { Photometric.magnitude(fluxNJy: 5 * $0) }
            history.append(Photometry(mjd: mjd, band: l.string(lBand), flux: nil, fluxError: l.double(lNoise),
                                      magnitude: nil, magnitudeError: nil, limitingMagnitude: lim, isDetection: false, sourceId: nil))
        }
        history.sort { $0.mjd < $1.mjd }
        let forcedPoints = r.array(iForced).compactMap { v -> Photometry? in
            guard let f = v.recordValue, let mjd = f.double(fMjd, or: fOldMjd) else { return nil }
            let ff = f.double(fFlux, or: fOldFlux), fe = f.double(fFluxErr, or: fOldFluxErr)
            return Photometry(mjd: mjd, band: f.string(fBand, or: fOldBand), flux: ff, fluxError: fe,
                              magnitude: ff.flatMap { Photometric.magnitude(fluxNJy: $0) },
                              magnitudeError: ff.flatMap { x in fe.flatMap { Photometric.magnitudeError(fluxNJy: x, error: $0) } },
                              limitingMagnitude: nil, isDetection: false, sourceId: nil)
        }.sorted { $0.mjd < $1.mjd }
        return (history, forcedPoints)
    }

    static func alert(_ r: AvroRecord, schemaVersion: String?, history: [Photometry], forced forcedPoints: [Photometry]) throws(AlertDecodingError) -> Alert {
        guard let s = r.record(iSource) else {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "Rubin alert without a diaSource record", offset: 0)
        }
        guard let alertId = r.long(iDiaSourceId) ?? r.long(iAlertId) ?? s.long(sId) else {
            throw AlertDecodingError(.dataDoesNotMatchSchema, "Rubin alert with neither diaSourceId nor alertId", offset: 0)
        }
        let flux = s.double(sFlux, or: sOldFlux), err = s.double(sFluxErr, or: sOldFluxErr)
        let objectId = s.long(sObject).flatMap { $0 == 0 ? nil : $0 } ?? r.record(iObject)?.long(oId)
        func stamp(_ i: Int) -> Cutout? { r.values[i].bytesValue.map { Cutout(fileName: nil, data: $0) } }
        return Alert(
            survey: .rubin, alertId: alertId, sourceId: s.long(sId), objectId: objectId.map(String.init) ?? s.long(sSsObject).map { "ss\($0)" },
            mjd: s.double(sMjd, or: sOldMjd) ?? .nan, ra: s.double(sRa) ?? .nan, dec: s.double(sDec, or: sOldDec) ?? .nan,
            band: s.string(sBand, or: sOldBand), flux: flux, fluxError: err,
            magnitude: flux.flatMap { Photometric.magnitude(fluxNJy: $0) },
            magnitudeError: flux.flatMap { f in err.flatMap { Photometric.magnitudeError(fluxNJy: f, error: $0) } },
            snr: s.double(sSnr) ?? flux.flatMap { f in err.flatMap { $0 > 0 ? f / $0 : nil } },
            reliability: s.double(sReliability), schemaVersion: schemaVersion,
            history: history, forcedPhotometry: forcedPoints,
            cutouts: Cutouts(science: stamp(iScience), template: stamp(iTemplate), difference: stamp(iDifference)),
            record: r)
    }
}
