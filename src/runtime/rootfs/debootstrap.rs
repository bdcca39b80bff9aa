//! todo
use std::path::{Path, PathBuf};
use super::RootfsError;
pub fn prepare(_b: &crate::spec::Debootstrap, _c: &Path, _p: &dyn Fn(&str)) -> Result<PathBuf, RootfsError> { todo!() }
