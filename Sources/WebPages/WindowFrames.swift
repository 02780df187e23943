import AlertModel
import Basics
import Foundation
import Stamps
import State
import WebServer

/// The frames of an alert of the window (`/window/<survey>/<id>/<n>.png`): its triplet, drawn as a
/// volunteer would see it, from the packet kept in the state store.
struct WindowFrames {
    let site: Site
    static let settings: RenderSettings = {
        var s = RenderSettings()
        s.size = 150
        return s
    }()

    func frame(survey: String, alertID: String, file: String) async -> HTTPServer.Response {
        guard let id = Int64(alertID), file.hasSuffix(".png"), let n = Int(file.dropLast(4)), (0..<3).contains(n) else {
            return .text(404, "no such frame: frames are /window/<survey>/<alert id>/0.png, 1.png or 2.png\n")
        }
        let recent = site.state.recent
        let entry: RecentAlerts.Entry?
        switch await Site.blocking({ try recent.entry(survey: survey, alertID: id) }) {
        case .success(let e): entry = e
        case .failure(let error): return .text(500, "cannot read the window of recent alerts: \(error)\n")
        }
        guard let entry else { return .text(404, "alert \(id) of \(survey) is not in the window of recent alerts (any more)\n") }
        let alerts: [Alert]
        do { alerts = try AlertDecoder(schemas: site.schemas).decode(entry.packet, source: entry.source) } catch {
            return .text(422, "alert \(id) does not decode: \(error)\n")
        }
        guard entry.index < alerts.count else { return .text(422, "alert \(id): its packet holds \(alerts.count) alerts\n") }
        do {
            // The frame asked for alone: a match's three frames are three requests.
            let frame = try FlipbookRenderer(settings: Self.settings).tripletFrame(alerts[entry.index], n)
            return .init(status: 200, headers: [("Content-Type", "image/png"), ("Cache-Control", "max-age=3600")], body: frame.png)
        } catch {
            return .text(422, "alert \(id): its stamps cannot be drawn: \(error)\n")
        }
    }
}
