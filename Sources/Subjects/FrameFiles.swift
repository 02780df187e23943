import Basics
import Foundation
import CGlibc
import Glibc

/// A batch's frames: written straight to their names without a sync each, then made durable
/// together by one sync of the file system before any manifest row names them. (Foundation's atomic
/// write syncs every file and leaves a deleted temporary name behind each: four syncs a subject,
/// and file creation slowing as a set's folder fills.) A frame cut short by a crash belongs to a
/// subject not yet confirmed, whose frames are written again when its alert comes back.
struct FrameFiles {
    private(set) var written = 0

    /// Writes (or overwrites) one frame.
    mutating func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FolderError(path: path, reason: "cannot write a frame: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw FolderError(path: path, reason: "cannot write a frame: \(String(cString: strerror(errno)))") }
            done += n
        }
        written += 1
    }

    /// Makes every frame written so far durable (their data and names): one `syncfs` of the file
    /// system holding `folder`.
    func sync(folder: String) throws {
        guard written > 0 else { return }
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FolderError(path: folder, reason: "cannot open to sync its frames: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard citsci_syncfs(fd) == 0 else { throw FolderError(path: folder, reason: "cannot sync its frames: \(String(cString: strerror(errno)))") }
    }
}
