// Module Filters. The rule language PIs write: lexer, parser, type checker, compiler to closures and flat programs,
// functions, watchlists, filter files (with their render settings, typed at load) and the filter set.
// Which modules it may import: docs/ARCHITECTURE.md.
