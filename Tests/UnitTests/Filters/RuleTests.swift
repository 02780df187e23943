import Foundation
import Testing
import TestSupport
@testable import Filters

@Suite(needsData) struct RuleTests {
    @Test func arithmeticComparisonsAndUnits() throws {
        #expect(try eval("1 + 2 * 3 = 7") == .bool(true))
        #expect(try eval("(1 + 2) * 3 = 9 AND 7 / 2 = 3.5 AND -2 < 0") == .bool(true))
        #expect(try eval("'abc' < 'abd' AND 'r' != 'g' AND 'x' <> 'y'") == .bool(true))
        #expect(try eval("3600 arcsec = 1 deg AND 60 arcmin = 1 deg") == .bool(true))
        #expect(try eval("1 / 0 IS NULL") == .bool(true), "division by zero is NULL")
        #expect(try eval("5 BETWEEN 1 AND 10 AND 11 NOT BETWEEN 1 AND 10") == .bool(true))
        #expect(try eval("'r' IN ('g', 'r') AND 'i' NOT IN ('g', 'r') AND 2 IN (1, 2, 3)") == .bool(true))
        #expect(try eval("'ZTF17aaarzyp' LIKE 'ZTF17%' AND 'ZTF17aaarzyp' LIKE '_TF%' AND 'ab' NOT LIKE 'a'") == .bool(true))
        #expect(try eval("object_id REGEXP '^ZTF1[78][a-z]+$'") == .bool(true))
    }

    /// SQL's three-valued logic: NULL compares to nothing, IS NULL is true, AND/OR absorb.
    @Test func nullSemantics() throws {
        #expect(try eval("NULL = NULL") == .null)
        #expect(try eval("NULL > 1") == .null)
        #expect(try eval("NOT (NULL > 1)") == .null)
        #expect(try eval("NULL IS NULL AND 1 IS NOT NULL") == .bool(true))
        #expect(try eval("NULL > 1 AND 1 = 2") == .bool(false))
        #expect(try eval("NULL > 1 AND 1 = 1") == .null)
        #expect(try eval("NULL > 1 OR 1 = 1") == .bool(true))
        #expect(try eval("NULL > 1 OR 1 = 2") == .null)
        #expect(try eval("NULL + 1 IS NULL") == .bool(true))
        #expect(try eval("NULL BETWEEN 1 AND 2") == .null)
        #expect(try eval("NULL IN (1, 2)") == .null)
        // A NULL result is not a match.
        let rule = try FilterRule(name: "n", expression: "candidate.magpsf > NULL")
        #expect(rule.matches(Samples.ztf) == false)
        // A field this ZTF version lacks is NULL, not an error.
        #expect(try eval("candidate.tooflag IS NULL OR candidate.tooflag >= 0") == .bool(true))
    }

    @Test func modelFieldsAndPathsOfBothSurveys() throws {
        let z = Samples.ztf, r = Samples.rubin
        #expect(try eval("band = 'r' AND survey = 'ztf' AND object_id = 'ZTF17aaarzyp' AND alert_id = 2982177112815010003", z) == .bool(true))
        #expect(abs(try number("candidate.magpsf", z)! - 15.8836) < 1e-3)
        #expect(try number("magnitude", z) == z.magnitude)
        #expect(try eval("candidate.magpsf = magnitude AND reliability = candidate.drb", z) == .bool(true))
        #expect(try eval("band = 'i' AND survey = 'rubin' AND diaSource.psfFlux = flux AND diaSource.snr > 30", r) == .bool(true))
        #expect(try number("diaObject.ra", r)! > 63 && number("diaObject.ra", r)! < 64)
    }

    @Test func aggregatesOverHistories() throws {
        let z = Samples.ztf, r = Samples.rubin
        #expect(try number("count(history)", z) == Double(z.history.count))
        #expect(try number("count(prv_candidates)", z) == 14)
        #expect(try number("count(fp_hists)", z) == 14)
        let mags = z.history.compactMap(\.magnitude)
        #expect(try number("min(history.magnitude)", z) == mags.min())
        #expect(try number("max(prv_candidates.magpsf)", z)! == Double(Float(mags.max()!)))
        #expect(abs(try number("mean(history.magnitude)", z)! - mags.reduce(0, +) / Double(mags.count)) < 1e-9)
        #expect(try number("first(history.mjd)", z) == z.history.first!.mjd)
        #expect(try number("last(history.mjd)", z) == z.history.last!.mjd)
        #expect(try number("count(history, band = 'g')", z) == Double(z.history.filter { $0.band == "g" }.count))
        let prv = (r.record["prvDiaSources"].arrayValue ?? []).compactMap(\.recordValue)
        let iBright = prv.filter { $0["band"].stringValue == "i" && ($0["snr"].doubleValue ?? 0) > 5 }.count
        #expect(iBright > 0 && iBright < prv.count)
        #expect(try number("count(prvDiaSources, band = 'i' AND snr > 5)", r) == Double(iBright))
        let allI = prv.allSatisfy { $0["band"].stringValue == "i" }
        let anyBright = prv.contains { ($0["snr"].doubleValue ?? 0) > 30 }
        #expect(try eval("any(prvDiaSources, snr > 30)", r) == .bool(anyBright))
        #expect(try eval("all(prvDiaSources, band = 'i')", r) == .bool(allI))
        #expect(try eval("all(prvDiaSources, snr > -1e30) AND NOT any(prvDiaSources, snr > 1e30)", r) == .bool(true))
        #expect(try eval("any(history, magnitude < 0)", z) == .bool(false))
        #expect(try eval("count(prvDiaSources, snr > 1e9) = 0", r) == .bool(true))
        #expect(try eval("max(prvDiaSources.psfFlux, snr > 1e9) IS NULL", r) == .bool(true), "an empty selection is NULL")
    }

    @Test func astronomyFunctions() throws {
        let z = Samples.ztf
        // 3631 Jy is AB magnitude 0 (to the rounding of the 31.4 zero point for nJy).
        #expect(abs(try number("flux_to_mag(3631e9)")!) < 2e-4)
        #expect(abs(try number("flux_to_mag(1)")! - 31.4) < 1e-12)
        #expect(try eval("flux_to_mag(-5) IS NULL") == .bool(true))
        #expect(abs(try number("mag_error(100, 10)")! - 2.5 / log(10) * 0.1) < 1e-12)
        #expect(try number("abs(-2) + sqrt(16) + log10(1000)") == 9)
        #expect(abs(try number("angular_distance(10, 0, 11, 0)")! - 1) < 1e-9)
        #expect(abs(try number("angular_distance(0, 89.9, 180, 89.9)")! - 0.2) < 1e-9)
        #expect(try eval("cone(\(z.ra), \(z.dec) + 1 arcsec, 2 arcsec) AND NOT cone(\(z.ra), \(z.dec) + 3 arcsec, 2 arcsec)") == .bool(true))
        // The Galactic centre (Sgr A*) is at l, b ~ 0, 0; the north Galactic pole at b = 90.
        #expect(abs(try number("galactic_latitude(266.41683, -29.00781)")!) < 0.05)
        #expect(abs(try number("galactic_latitude(192.85948, 27.12825)")! - 90) < 1e-6)
        #expect(abs(try number("galactic_longitude(266.41683, -29.00781)")! - 359.944) < 0.01)
        #expect(try number("galactic_latitude()", z) == Sky.galactic(ra: z.ra, dec: z.dec).b)
        let first = z.history.filter(\.isDetection).map(\.mjd).min()!
        #expect(try number("days_since_first_detection()", z) == z.mjd - first)
        #expect(try eval("color('g', 'r') IS NULL", z) == .bool(true), "no g detection")
        let rSlope = try number("fade_rate('r')", z)!
        #expect(try number("rise_rate('r')", z) == -rSlope)
    }

    @Test func watchlistLookups() throws {
        let z = Samples.ztf
        let list = try Watchlist(csv: "name,ra,dec,radius\nhere,\(z.ra),\(z.dec + 1.0 / 3600),\nbig,0.5,0.5,3600\n", name: "agn")
        let res = FilterResources(watchlists: ["agn": list])
        #expect(try eval("in_watchlist('agn', 2 arcsec)", z, resources: res) == .bool(true))
        #expect(try eval("in_watchlist('agn', 0.5 arcsec)", z, resources: res) == .bool(false))
        let e = compileError("in_watchlist('agm', 2 arcsec)", resources: res)
        #expect(e?.reason == "no watchlist named 'agm' (loaded: agn)")
        #expect(e?.suggestion == "agn")
    }

    @Test func checkingErrorsAreExact() {
        #expect(compileError("candidate.magpfs < 18")?.reason == "unknown field 'candidate.magpfs' in ztf alerts (no field 'magpfs' in candidate)")
        #expect(compileError("candidate.magpfs < 18")?.suggestion == "candidate.magpsf")
        #expect(compileError("reliabilty > 0.5")?.suggestion == "reliability")
        #expect(compileError("band > 5")?.reason == "cannot compare a string with a number")
        #expect(compileError("band + 1 > 2")?.reason == "'+' needs a number, found a string")
        #expect(compileError("snr AND TRUE")?.reason == "AND needs a boolean, found a number")
        #expect(compileError("flux_to_mgs(1) > 2")?.reason == "unknown function 'flux_to_mgs'")
        #expect(compileError("flux_to_mgs(1) > 2")?.suggestion == "flux_to_mag")
        #expect(compileError("flux_to_mag(1, 2) > 3")?.reason == "flux_to_mag takes 1 argument, got 2: flux_to_mag(flux_nJy): AB magnitude")
        #expect(compileError("snr + 1")?.reason == "a filter must be a condition (true or false), this is a number")
        #expect(compileError("count(snr) > 1")?.reason == "count() needs a list such as history or prvDiaSources.psfFlux; 'snr' is not one")
        #expect(compileError("band LIKE 5")?.reason == "the pattern of LIKE must be a 'string'")
        #expect(compileError("band REGEXP '('")?.reason == "invalid regular expression '('")
        #expect(compileError("band IN (ra, 'g')")?.reason == "the items of an IN list must be constants")
        #expect(compileError("cutoutScience.stampData IS NULL")?.reason == "'cutoutScience.stampData' is a bytes, which filters cannot compare")
        // A field of neither survey: the nearest name from either.
        #expect(compileError("diaSource.psfFlx > 1", survey: nil)?.suggestion == "diaSource.psfFlux")
    }

    @Test func surveysAreInferredFromTheFieldsUsed() throws {
        #expect(try FilterRule(name: "z", expression: "candidate.magpsf < 18").surveys == [.ztf])
        #expect(try FilterRule(name: "r", expression: "diaSource.snr > 5").surveys == [.rubin])
        #expect(Set(try FilterRule(name: "b", expression: "snr > 5 AND band = 'g'").surveys) == [.rubin, .ztf])
        let rule = try FilterRule(name: "z", expression: "candidate.magpsf < 18")
        #expect(rule.matches(Samples.rubin) == false)
        #expect(rule.matches(Samples.ztf) == true)
    }
}
