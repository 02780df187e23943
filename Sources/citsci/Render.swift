import AlertModel
import Stamps
import ArgumentParser
import Foundation

/// Rendering options shared by the commands that make frames.
struct RenderOptions: ParsableArguments {
    @Option(help: "Display limits: zscale, minmax, or percentile(99.5).")
    var interval: String = "zscale"

    @Option(help: "Stretch: linear, asinh, log or sqrt.")
    var stretch: String = "linear"

    @Option(help: "Frame size in pixels (frames are square).")
    var size: Int = 300

    @Option(help: "Colour map: grey, inverted or viridis.")
    var colormap: String = "grey"

    @Option(help: "Resampling: nearest (pixel-true) or bilinear (smooth).")
    var resample: String = "nearest"

    @Flag(help: "Turn stamps north up, east left using their WCS.")
    var northUp = false

    @Flag(help: "Scale each frame by its own limits instead of sharing them across the flipbook.")
    var perFrameLimits = false

    @Flag(help: "No cross-hair at the alert position.")
    var noReticle = false

    @Flag(help: "No band/date label.")
    var noLabel = false

    func settings() throws -> RenderSettings {
        var s = RenderSettings()
        guard let i = Interval(interval) else { throw ValidationError("--interval \(interval): expected zscale, minmax or percentile(P)") }
        guard let st = Stretch(stretch) else { throw ValidationError("--stretch \(stretch): expected linear, asinh, log or sqrt") }
        guard let c = Colormap(rawValue: colormap) else { throw ValidationError("--colormap \(colormap): expected grey, inverted or viridis") }
        guard let r = RenderSettings.Resample(rawValue: resample) else { throw ValidationError("--resample \(resample): expected nearest or bilinear") }
        guard (16...2048).contains(size) else { throw ValidationError("--size \(size): expected 16 to 2048") }
        s.interval = i; s.stretch = st; s.colormap = c; s.resample = r; s.size = size
        s.northUp = northUp; s.sharedLimits = !perFrameLimits; s.reticle = !noReticle; s.label = !noLabel
        return s
    }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Render alerts' cutouts into PNG flipbooks.",
        discussion: """
        triplet: science, template and difference as three frames of one subject (<alert>_<n>_<kind>.png).
        blink: the --cutout stamp of each object across its alerts in the given files, oldest first
        (<object>_blink_<n>_<alert>.png; objects with one alert give one frame). composite: the triplet side by
        side in one image (<alert>_composite.png). A bad cutout is reported and the other alerts go on.
        """)

    @OptionGroup var schemaOptions: SchemaOptions
    @OptionGroup var render: RenderOptions

    @Option(help: "Output folder.")
    var out: String

    @Option(help: "triplet, blink or composite.")
    var flipbook: String = "triplet"

    @Option(help: "For blink: science, template or difference.")
    var cutout: String = "difference"

    @Option(help: "For blink: at most this many frames per object (its latest alerts).")
    var blinkFrames: Int = 5

    @Argument(help: "Alert files or folders.")
    var files: [String]

    func run() throws {
        guard let kind = FlipbookKind(rawValue: flipbook) else { throw ValidationError("--flipbook \(flipbook): expected triplet, blink or composite") }
        guard let cutoutKind = CutoutKind(rawValue: cutout) else { throw ValidationError("--cutout \(cutout): expected science, template or difference") }
        let renderer = FlipbookRenderer(settings: try render.settings())
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let decoder = AlertDecoder(schemas: try schemaOptions.source())
        var alerts: [Alert] = []
        var failures = 0
        for path in try AlertFiles.expand(files) {
            do { alerts += try decoder.decode(try AlertFiles.read(path), source: path) } catch {
                printError("citsci render: \(error)")
                failures += 1
            }
        }
        var books: [Flipbook] = []
        switch kind {
        case .triplet, .composite:
            for a in alerts {
                do { books.append(kind == .triplet ? try renderer.triplet(a) : try renderer.composite(a)) } catch {
                    printError("citsci render: \(error)")
                    failures += 1
                }
            }
        case .blink:
            var history = CutoutHistory(perObject: blinkFrames, maxAgeDays: .infinity, maxObjects: .max)
            for a in alerts { history.add(a) }
            let objects = Set(alerts.compactMap(\.objectId)).sorted()
            for o in objects {
                do { books.append(try renderer.blink(history.recent(o), cutout: cutoutKind)) } catch {
                    printError("citsci render: \(error)")
                    failures += 1
                }
            }
        }
        var written = 0, bytes = 0
        for book in books {
            for f in book.frames {
                try Data(f.png).write(to: URL(fileURLWithPath: out).appendingPathComponent(f.name))
                written += 1
                bytes += f.png.count
            }
        }
        print("rendered \(books.count) \(kind.rawValue) flipbooks, \(written) frames (\(bytes / max(written, 1) / 1024) kB each on average) in \(out) [\(renderer.settings)]")
        if failures > 0 { throw ExitCode(1) }
    }
}
