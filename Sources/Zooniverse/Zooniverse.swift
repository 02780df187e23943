// Module Zooniverse. Zooniverse: the Panoptes API client and the exactly-once push of subject sets, within the
// data-rights gate.
// Which modules it may import: docs/ARCHITECTURE.md.
