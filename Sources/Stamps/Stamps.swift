// Module Stamps. Stamps: FITS cutouts to scaled, oriented PNG frames (libpng wrapped once) and flipbooks (triplets,
// blinks, composites).
// Which modules it may import: docs/ARCHITECTURE.md.
