// Module Service. The service: `CitSciService` wires every stage from a `RunConfiguration` (the composition root),
// runs them under swift-service-lifecycle with metrics, signals and logging, and the Caesar listener.
// Which modules it may import: docs/ARCHITECTURE.md.
