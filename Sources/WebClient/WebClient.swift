// Module WebClient. The HTTP client: libcurl wrapped once, with limits on what an answer may be, timeouts and typed
// errors that carry the status and an excerpt of the body (redacted).
// Which modules it may import: docs/ARCHITECTURE.md.
