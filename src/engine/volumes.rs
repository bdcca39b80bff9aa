//! `stack volume`: the machine's named volumes (`name:` and `external:`
//! volumes of every project), listed, made and removed.

use crate::state::volumes::VolumeStore;
pub use crate::state::volumes::{VolumeError, VolumeInfo};

/// Every machine volume with the projects that name it.
pub fn list() -> Vec<VolumeInfo> {
    VolumeStore::new().list()
}

/// Make a volume for `external: true` to find; `false` when it existed.
pub fn create(name: &str) -> Result<bool, VolumeError> {
    VolumeStore::new().create(name)
}

/// Remove a volume and its data, refused while a project names it.
pub fn remove(name: &str) -> Result<(), VolumeError> {
    VolumeStore::new().remove(name)
}
