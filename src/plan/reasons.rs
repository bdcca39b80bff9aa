//! Field-level differences between two service configs.
