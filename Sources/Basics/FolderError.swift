import Foundation

/// A folder citsci must write to and cannot, with the reason.
package struct FolderError: Error, CustomStringConvertible, Sendable {
    package let path: String
    package let reason: String
    package var description: String { "\(path): \(reason)" }
    package init(path: String, reason: String) { self.path = path; self.reason = reason }

    /// Why a file-system call failed, in the system's words ("No such file or directory"), without
    /// Foundation's NSError dump.
    package static func reason(of error: any Error) -> String {
        (error as NSError).localizedFailureReason ?? error.localizedDescription
    }
}
