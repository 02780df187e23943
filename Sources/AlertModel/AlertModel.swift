// Module AlertModel. The alert model: `Alert`, decoded from any framing (Confluent wire format, container files) and any
// writer schema onto the reader schemas citsci owns; field paths for filters; writer-schema sources.
// Which modules it may import: docs/ARCHITECTURE.md.
