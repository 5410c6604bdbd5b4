//! Introspection type support to cached type plans (filled in by the codec work).
