import Testing
@testable import Filters

@Suite struct ParserTests {
    @Test func precedenceAndGrouping() throws {
        let tree = try Parser.parse("a OR b AND NOT c = 1 + 2 * 3").tree()
        #expect(tree == """
        OR
          field a
          AND
            field b
            NOT
              =
                field c
                +
                  number 1
                  *
                    number 2
                    number 3

        """)
        let between = try Parser.parse("x BETWEEN 1 AND 2 AND y").tree()
        #expect(between.hasPrefix("AND\n  BETWEEN\n"))
        let units = try Parser.parse("2 arcsec + -1.5e-1 deg").tree()
        #expect(units == "+\n  in arcsec\n    number 2\n  -\n    in deg\n      number 0.15\n")
    }

    @Test func syntaxErrorsSayWhatAndWhere() {
        func error(_ s: String) -> FilterError? {
            do { _ = try Parser.parse(s); return nil } catch { return error }
        }
        #expect(error("snr > ")?.reason == "expected a value, a field or a function, found the end of the expression")
        #expect(error("snr > 5 5")?.reason == "unexpected number 5 after a complete expression")
        #expect(error("snr > 5 5")?.offset == 8)
        #expect(error("band = 'r")?.reason == "string is not closed with '")
        #expect(error("(snr > 5")?.reason == "expected ')' to close '(', found the end of the expression")
        #expect(error("x BETWEEN 1 OR 2")?.reason == "expected AND in BETWEEN ... AND ..., found OR")
        #expect(error("band IN 'r'")?.reason == "expected '(' after IN, found string 'r'")
        #expect(error("snr ; 5")?.reason == "unexpected character ';'")
        #expect(error("x IS 5")?.reason == "expected NULL after IS, found number 5")
    }

    @Test func commentsAndKeywordsInAnyCase() throws {
        let lower = try Parser.parse("snr > 5 -- bright enough\nand band in ('g') or x is not null").tree()
        let upper = try Parser.parse("snr > 5 AND band IN ('g') OR x IS NOT NULL").tree()
        #expect(lower == upper, "a comment is skipped and keywords are read in any case")
        #expect(lower.hasPrefix("OR\n  AND\n"), "\(lower)")
    }

    /// Random and truncated input: a FilterError or a tree, never a crash.
    @Test func randomAndTruncatedInputNeverCrashes() {
        let pieces = ["snr", ">", "5", "AND", "(", ")", "'g'", "IN", "BETWEEN", "NOT", "count(", ",", "prvDiaSources.psfFlux", "2 arcsec",
                      "IS", "NULL", "LIKE", "'%a'", "-", "*", "/", "=", "<>", "1e", "'", "..", "x.y.", "TRUE"]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 1...12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined(separator: " ")
            for n in Array(stride(from: 0, through: text.count, by: 3)) + [text.count] {
                let input = String(text.prefix(n))
                do throws(FilterError) {
                    #expect(!(try Parser.parse(input).tree()).isEmpty)
                } catch {
                    // An error points inside the text (or just after it) and says why.
                    #expect(error.offset >= 0 && error.offset <= input.utf8.count && !error.reason.isEmpty, "\(input): \(error)")
                }
            }
            _ = try? FilterRule(name: "fuzz", expression: text)
        }
        let bytes: [UInt8] = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(throws: FilterError.self) { try Parser.parse(String(decoding: bytes, as: UTF8.self)) }
    }
}
