/// How stamps become frames. Its `description` is the provenance stamped on every subject (`#render`).
public struct RenderSettings: Sendable, Equatable, CustomStringConvertible {
    public enum Resample: String, Sendable { case nearest, bilinear }

    public var interval: Interval = .zscale()
    public var stretch: Stretch = .linear
    /// Frames are `size` × `size` pixels (a non-square stamp is fitted inside, centred).
    public var size: Int = 300
    public var colormap: Colormap = .grey
    /// Nearest keeps pixels true (blocks); bilinear is smooth.
    public var resample: Resample = .nearest
    /// Share display limits across the frames of a blink, so it compares like with like (a
    /// triplet's frames are different kinds of image and always keep their own).
    public var sharedLimits: Bool = true
    /// Turn stamps north up, east left from their WCS (stamps without one keep FITS's orientation).
    public var northUp: Bool = false
    public var reticle: Bool = true
    public var label: Bool = true
    /// Colour of blank (NaN) pixels, RGB; nil shows them as the lowest value.
    public var nanColour: [UInt8]? = nil

    public init() {}

    public var description: String {
        var parts = ["\(interval)", "\(stretch)", "\(size)px", colormap.rawValue, resample.rawValue]
        if !sharedLimits { parts.append("per-frame") }
        if northUp { parts.append("north-up") }
        return parts.joined(separator: " ")
    }
}
