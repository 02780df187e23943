// Module Basics. Values every stage shares: `JSONValue`, CSV files, redaction of secrets in what is quoted or logged,
// `FolderError`, and `offload` for blocking calls. Imports nothing of citsci's.
// Which modules it may import: docs/ARCHITECTURE.md.
