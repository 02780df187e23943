/// How stamps become frames. Its `description` is the provenance stamped on every subject (`#render`).
package struct RenderSettings: Sendable, Equatable, CustomStringConvertible {
    package enum Resample: String, Sendable { case nearest, bilinear }

    package var interval: Interval = .zscale()
    package var stretch: Stretch = .linear
    /// Frames are `size` × `size` pixels (a non-square stamp is fitted inside, centred).
    package var size: Int = 300
    package var colormap: Colormap = .grey
    /// Nearest keeps pixels true (blocks); bilinear is smooth.
    package var resample: Resample = .nearest
    /// Share display limits across the frames of a blink, so it compares like with like (a
    /// triplet's frames are different kinds of image and always keep their own).
    package var sharedLimits: Bool = true
    /// Turn stamps north up, east left from their WCS (stamps without one keep FITS's orientation).
    package var northUp: Bool = false
    package var reticle: Bool = true
    package var label: Bool = true
    /// Colour of blank (NaN) pixels, RGB; nil shows them as the lowest value.
    package var nanColour: [UInt8]? = nil

    package init() {}

    package var description: String {
        var parts = ["\(interval)", "\(stretch)", "\(size)px", colormap.rawValue, resample.rawValue]
        if !sharedLimits { parts.append("per-frame") }
        if northUp { parts.append("north-up") }
        return parts.joined(separator: " ")
    }
}
