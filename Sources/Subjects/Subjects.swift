// Module Subjects. Subjects: what a volunteer sees (frames, light curve, metadata), batching alerts into subject
// sets, and the folder sink with its manifests.
// Which modules it may import: docs/ARCHITECTURE.md.
