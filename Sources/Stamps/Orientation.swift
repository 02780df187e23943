/// Which way a stamp is turned for display: one of the eight flips and quarter turns, chosen so that
/// north is up and east is left when the header has a WCS, or FITS's convention (row 0 at the
/// bottom) otherwise.
package struct Orientation: Sendable, Equatable {
    /// Source pixel step for one display column to the right, and for one display row down.
    package let right: (dx: Int, dy: Int)
    package let down: (dx: Int, dy: Int)

    package static func == (a: Orientation, b: Orientation) -> Bool {
        a.right == b.right && a.down == b.down
    }

    /// FITS convention: x to the right, y up.
    package static let fits = Orientation(right: (1, 0), down: (0, -1))

    /// North up, east left from the header's CD matrix (or PC × CDELT, or CDELT with CROTA2);
    /// FITS convention when there is no WCS.
    package static func northUp(_ header: [String: String]) -> Orientation {
        guard let cd = Self.cdMatrix(header) else { return .fits }
        let steps = [(1, 0), (-1, 0), (0, 1), (0, -1)]
        var best = Orientation.fits
        var bestScore = -Double.infinity
        for r in steps {
            for d in steps where r.0 * d.0 + r.1 * d.1 == 0 {
                // Sky direction of a step: (dRA, dDec) = CD · (dx, dy). Right should be west (−RA),
                // up (−down) should be north (+Dec).
                let rightRA = cd.0 * Double(r.0) + cd.1 * Double(r.1)
                let upDec = -(cd.2 * Double(d.0) + cd.3 * Double(d.1))
                let rightNorm = hypot(rightRA, cd.2 * Double(r.0) + cd.3 * Double(r.1))
                let upNorm = hypot(cd.0 * Double(d.0) + cd.1 * Double(d.1), upDec)
                guard rightNorm > 0, upNorm > 0 else { continue }
                let score = -rightRA / rightNorm + upDec / upNorm
                if score > bestScore {
                    bestScore = score
                    best = Orientation(right: r, down: d)
                }
            }
        }
        return best
    }

    /// (CD1_1, CD1_2, CD2_1, CD2_2) in degrees per pixel.
    static func cdMatrix(_ h: [String: String]) -> (Double, Double, Double, Double)? {
        func d(_ k: String) -> Double? { h[k].flatMap { Double($0.replacingOccurrences(of: "D", with: "E")) } }
        if let a = d("CD1_1"), let dd = d("CD2_2") {
            return (a, d("CD1_2") ?? 0, d("CD2_1") ?? 0, dd)
        }
        if let c1 = d("CDELT1"), let c2 = d("CDELT2") {
            if h["PC1_1"] != nil || h["PC2_2"] != nil {
                return (c1 * (d("PC1_1") ?? 1), c1 * (d("PC1_2") ?? 0), c2 * (d("PC2_1") ?? 0), c2 * (d("PC2_2") ?? 1))
            }
            let rot = (d("CROTA2") ?? 0) * .pi / 180
            return (c1 * cos(rot), -c2 * sin(rot), c1 * sin(rot), c2 * cos(rot))
        }
        return nil
    }

    /// The display size of a `width` × `height` source.
    func displaySize(width: Int, height: Int) -> (Int, Int) {
        right.dx != 0 ? (width, height) : (height, width)
    }

    /// The source pixel shown at display (column, row).
    @inline(__always)
    func source(column: Int, row: Int, width: Int, height: Int) -> (Int, Int) {
        let x0 = right.dx < 0 || down.dx < 0 ? width - 1 : 0
        let y0 = right.dy < 0 || down.dy < 0 ? height - 1 : 0
        return (x0 + column * right.dx + row * down.dx, y0 + column * right.dy + row * down.dy)
    }
}

import Foundation
