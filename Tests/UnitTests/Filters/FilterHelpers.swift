import AlertModel
import Foundation
import Testing
import TestSupport
@testable import Filters


/// Real alerts to evaluate rules on.
enum Samples {
    static let ztf: Alert = try! AlertDecoder().decode(try! Paths.bytes("pittgoogle-samples/ztf/ztf_20250302_programid1_ZTF17aaarzyp_2982177112815010003.v4_02.avro"))[0]
    static let rubin: Alert = try! AlertDecoder().decode(try! Paths.bytes("fink-client-datatest/lsst_part-2-918301.avro"))
        .first { $0.alertId == 170094456272322680 }!
}

/// The value of `expression` for an alert.
func eval(_ expression: String, _ alert: Alert = Samples.ztf, resources: FilterResources = FilterResources()) throws -> Value {
    try FilterRule(name: "t", expression: expression, surveys: [alert.survey], resources: resources).evaluate(alert)
}

/// The value of a non-boolean expression, through a comparison that is true exactly when equal.
func number(_ expression: String, _ alert: Alert = Samples.ztf) throws -> Double? {
    let c = try Compiler(survey: alert.survey, resources: FilterResources()).compile(try Parser.parse(expression))
    return c.eval(alert, nil).number
}

func compileError(_ expression: String, survey: Survey? = .ztf, resources: FilterResources = FilterResources()) -> FilterError? {
    do {
        _ = try FilterRule(name: "t", expression: expression, surveys: survey.map { [$0] }, resources: resources)
        return nil
    } catch {
        return error
    }
}
