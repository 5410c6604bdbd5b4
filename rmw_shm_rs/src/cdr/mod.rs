//! XCDR1 little-endian reader and writer (filled in by the codec work).
