//! Fuzzing the macro's entry point with mangled token streams: it must answer with tokens (an
//! expansion or a `compile_error!`), never panic.
