// Module WebServer. HTTP serving on Hummingbird/SwiftNIO: limits on every part of a request, whole-request deadlines,
// credentials checked before a body is read, threads of its own.
// Which modules it may import: docs/ARCHITECTURE.md.
