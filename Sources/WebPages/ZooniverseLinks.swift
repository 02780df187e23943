import Foundation

/// Where a set or subject is seen on Zooniverse's own site.
package struct ZooniverseLinks: Sendable {
    /// The project as configured: `owner/slug` (then subjects link to their Talk page) or an id.
    package let project: String?
    /// The front end: www.zooniverse.org, or the preview site for the staging API.
    package let frontEnd: String

    package init(project: String?, endpoint: String = "https://www.zooniverse.org") {
        self.project = project
        frontEnd = endpoint.contains("staging") ? "https://frontend.preview.zooniverse.org" : "https://www.zooniverse.org"
    }

    /// A subject set in the project builder.
    func setURL(project id: String, set: String) -> String {
        "\(frontEnd)/lab/\(HTML.urlComponent(id))/subject-sets/\(HTML.urlComponent(set))"
    }

    /// A subject's Talk page when the configured project is a slug, else the subject in the API.
    func subjectURL(subject: String) -> String {
        if let slug = project, slug.contains("/") {
            let path = slug.split(separator: "/").map { HTML.urlComponent(String($0)) }.joined(separator: "/")
            return "\(frontEnd)/projects/\(path)/talk/subjects/\(HTML.urlComponent(subject))"
        }
        return "\(frontEnd)/api/subjects/\(HTML.urlComponent(subject))"
    }
}
