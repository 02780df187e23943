// Module State. The state store: migrations, the SQLite and PostgreSQL engines, and a typed API per stage
// (`state.sink`, `state.zooniverse`, classifications, Caesar reductions). The only module that
// writes SQL: its engine types are internal.
// Which modules it may import: docs/ARCHITECTURE.md.
