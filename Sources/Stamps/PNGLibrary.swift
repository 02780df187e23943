import CPNG

/// Facts about the linked libpng (stamps and flipbooks arrive with issue 5).
package enum PNGLibrary {
    package static var version: String {
        let v = png_access_version_number()
        return "\(v / 10000).\(v / 100 % 100).\(v % 100)"
    }
}
